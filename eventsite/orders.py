"""The order state machine: every status change of every order goes through here.

A transition checks the move against ``ALLOWED``, keeps the ``sold`` counters
of the ticket types in step, and writes an ``OrderEvent`` in the caller's
transaction. Moving an order to the status it already has is a no-op, so a
webhook delivered twice changes nothing the second time.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.sql import Select

from . import availability_cache
from .clock import now as clock_now
from .extensions import db
from .models import Order, OrderEvent, OrderStatus, TicketType

S = OrderStatus

ALLOWED: dict[OrderStatus | None, frozenset[OrderStatus]] = {
    None: frozenset({S.RESERVED}),
    S.RESERVED: frozenset({S.PAYMENT_PROCESSING, S.CONFIRMED, S.EXPIRED, S.CANCELLED}),
    S.PAYMENT_PROCESSING: frozenset({S.CONFIRMED, S.EXPIRED, S.CANCELLED}),
    # Late payment: confirmed if capacity remains, otherwise refunded.
    S.EXPIRED: frozenset({S.CONFIRMED, S.REFUNDED}),
    S.CANCELLED: frozenset({S.CONFIRMED, S.REFUNDED}),
    S.CONFIRMED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}


class IllegalTransition(Exception):
    def __init__(self, order: Order, to: OrderStatus):
        self.current = order.status
        self.to = to
        current = order.status.value if order.status else "new"
        super().__init__(f"An order that is {current} cannot become {to.value}.")


def can_transition(order: Order, to: OrderStatus) -> bool:
    return order.status == to or to in ALLOWED[order.status]


def transition(order: Order, to: OrderStatus, *, reason: str, actor: str = "system") -> bool:
    """Move ``order`` to ``to`` inside the caller's transaction.

    Returns False when the order already has that status (idempotent), True
    when it changed; raises IllegalTransition for a move the table forbids.
    Callers that confirm must hold the ticket type locks (see inventory).
    """
    current = order.status
    if current == to:
        return False
    if to not in ALLOWED[current]:
        raise IllegalTransition(order, to)
    order.status = to
    availability_cache.changed(db.session(), order.event_id)
    if to == S.CONFIRMED:
        _add_sold(order, +1)
    elif current == S.CONFIRMED:
        _add_sold(order, -1)
    db.session.add(
        OrderEvent(order=order, from_status=current.value if current else None, to_status=to.value,
                   reason=reason[:255], actor=actor[:120], at=clock_now())
    )
    return True


def _add_sold(order: Order, sign: int) -> None:
    for item in order.items:
        db.session.execute(
            update(TicketType)
            .where(TicketType.id == item.ticket_type_id)
            .values(sold=TicketType.sold + sign * item.quantity)
            .execution_options(synchronize_session=False)
        )
        db.session.expire(item.ticket_type, ["sold"])


def bulk_transition(
    candidates: Select, to: OrderStatus, *, from_statuses: Iterable[OrderStatus], reason: str,
    actor: str = "system", at: datetime | None = None,
) -> list[int]:
    """Move every order whose id ``candidates`` selects (and whose status is in
    ``from_statuses``) to ``to`` in three statements, with one audit row each.

    For batch work such as the expiry sweep; moves that change ``sold`` go
    through ``transition`` one order at a time instead.
    """
    from_statuses = tuple(from_statuses)
    if to == S.CONFIRMED or S.CONFIRMED in from_statuses:
        raise ValueError("confirming and unconfirming change sold counters: use transition()")
    for status in from_statuses:
        if to not in ALLOWED[status]:
            raise ValueError(f"{status.value} -> {to.value} is not an allowed transition")
    at = at or clock_now()
    locked = db.session.execute(
        candidates.add_columns(Order.event_id).where(Order.status.in_(from_statuses))
        .with_for_update(skip_locked=True)
    ).all()
    if not locked:
        return []
    for event_id in {row.event_id for row in locked}:
        availability_cache.changed(db.session(), event_id)
    ids = [row.id for row in locked]
    db.session.execute(
        update(Order).where(Order.id.in_(ids)).values(status=to, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        insert(OrderEvent),
        [
            {"order_id": row.id, "from_status": row.status.value, "to_status": to.value,
             "reason": reason, "actor": actor, "at": at}
            for row in locked
        ],
    )
    return ids


def candidate_ids(*criteria, limit: int) -> Select:
    """The select ``bulk_transition`` expects: ids and statuses, oldest expiry first."""
    return select(Order.id, Order.status).where(*criteria).order_by(Order.expires_at).limit(limit)

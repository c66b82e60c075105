"""The order state machine: every status change of every order goes through here.

A transition checks the move against ``ALLOWED``, keeps the ``sold`` counters
of the ticket types in step, writes an ``OrderEvent`` in the caller's
transaction, promises the buyer the message the change calls for (hold placed,
tickets, refund: each an obligation, sent by a job after commit) and notes the
event as changed (the transaction layer tells the caches after commit). Moving
an order to the status it already has is a no-op, so a webhook delivered twice
changes nothing the second time.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql import Select

from .changes import note_event_changed, note_tickets_freed
from .clock import now as clock_now
from .errors import IllegalTransition
from .holds import holds_at
from .models import HOLDING_STATUSES, ObligationKind, Order, OrderEvent, OrderStatus, TicketType
from .obligations import promise

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


def can_transition(current: OrderStatus | None, to: OrderStatus) -> bool:
    return current == to or to in ALLOWED[current]


def transition(order: Order, to: OrderStatus, *, reason: str, actor: str = "system",
               session: Session | None = None) -> bool:
    """Move ``order`` to ``to`` inside the caller's transaction.

    Returns False when the order already has that status (idempotent), True
    when it changed; raises IllegalTransition for a move the table forbids.
    Callers that confirm must hold the ticket type locks (``capacity.locked_recheck``).
    ``session`` is needed only for a new order not yet added to one.
    """
    current = order.status
    if current == to:
        return False
    if to not in ALLOWED[current]:
        raise IllegalTransition(current, to)
    session = session or object_session(order)
    message = _message_for(order, current, to)
    order.status = to
    note_event_changed(session, order.event_id)
    if to == S.CONFIRMED:
        _add_sold(session, order, +1)
    elif current == S.CONFIRMED:
        _add_sold(session, order, -1)
    if current in (*HOLDING_STATUSES, S.CONFIRMED) and to in (S.EXPIRED, S.CANCELLED, S.REFUNDED):
        note_tickets_freed(session, [item.ticket_type_id for item in order.items])
    session.add(
        OrderEvent(order=order, from_status=current.value if current else None, to_status=to.value,
                   reason=reason[:255], actor=actor[:120], at=clock_now())
    )
    if message is not None:
        promise(order, message)
    return True


def note(order: Order, *, reason: str, actor: str) -> None:
    """Audit a change to a hold that keeps its status (a renewal), like a transition's."""
    object_session(order).add(OrderEvent(order=order, from_status=order.status.value, to_status=order.status.value,
                                         reason=reason[:255], actor=actor[:120], at=clock_now()))


def _message_for(order: Order, current: OrderStatus | None, to: OrderStatus) -> ObligationKind | None:
    """Every hold, sale and refund is told to the buyer, whichever path made it."""
    if to == S.RESERVED:
        return ObligationKind.EMAIL_OFFER if order.waitlist_entry_id else ObligationKind.EMAIL_HOLD_PLACED
    if to == S.CONFIRMED:
        # On time: the hold was still live (the caller holds the locks; now is read after them).
        return ObligationKind.EMAIL_PAID if holds_at(order, clock_now()) else ObligationKind.EMAIL_LATE_PAID
    if to == S.REFUNDED:
        return ObligationKind.EMAIL_REFUNDED
    return None


def _add_sold(session: Session, order: Order, sign: int) -> None:
    for item in order.items:
        session.execute(
            update(TicketType)
            .where(TicketType.id == item.ticket_type_id)
            .values(sold=TicketType.sold + sign * item.quantity)
            .execution_options(synchronize_session=False)
        )
        session.expire(item.ticket_type, ["sold"])


def bulk_transition(
    session: Session, candidates: Select, to: OrderStatus, *, from_statuses: Iterable[OrderStatus], reason: str,
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
    locked = session.execute(
        candidates.add_columns(Order.event_id).where(Order.status.in_(from_statuses))
        .with_for_update(skip_locked=True)
    ).all()
    if not locked:
        return []
    for event_id in {row.event_id for row in locked}:
        note_event_changed(session, event_id)
    ids = [row.id for row in locked]
    session.execute(
        update(Order).where(Order.id.in_(ids)).values(status=to, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    session.execute(
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

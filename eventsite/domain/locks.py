"""Every row lock the shop takes, in one place (the transaction layer bounds the wait).

Ticket types are locked in id order, so multi-type orders cannot deadlock; an
order is locked before its ticket types (``capacity.locked_recheck``).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Event, Order, TicketType


def order(session: Session, order_id: int) -> Order:
    return session.scalars(select(Order).where(Order.id == order_id).with_for_update()).one()


def order_by_token(session: Session, token: str | None) -> Order | None:
    return session.scalars(select(Order).where(Order.token == token).with_for_update()).one_or_none()


def order_by_payment_intent(session: Session, payment_intent_id: str | None) -> Order | None:
    if not payment_intent_id:
        return None
    return session.scalars(select(Order).where(Order.payment_intent_id == payment_intent_id)
                           .with_for_update()).one_or_none()


def event(session: Session, event_id: int) -> Event:
    return session.scalars(select(Event).where(Event.id == event_id).with_for_update()).one()


def ticket_types(session: Session, ticket_type_ids) -> list[TicketType]:
    """Row-lock ticket types in id order; what was locked is what is returned, even if already loaded.

    FOR NO KEY UPDATE: it excludes every other locker and writer of these rows,
    but not the KEY SHARE that an uncommitted order item's foreign key holds on
    them (FOR UPDATE would deadlock two reservers that inserted first)."""
    return list(session.scalars(
        select(TicketType).where(TicketType.id.in_(sorted(ticket_type_ids)))
        .order_by(TicketType.id).with_for_update(key_share=True).execution_options(populate_existing=True)
    ))

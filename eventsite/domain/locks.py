"""Every row lock the shop takes, in one place (the transaction layer bounds the wait).

Ticket types are locked in id order, so multi-type orders cannot deadlock; an
order is locked before its ticket types (``capacity.locked_recheck``). What was
locked is what is returned: each lock reloads the row (``populate_existing``),
so a copy the session loaded before the lock cannot hide a change made since.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Event, Order, TicketType, WaitlistEntry, WaitlistStatus


def _locked(query):
    return query.with_for_update().execution_options(populate_existing=True)


def order(session: Session, order_id: int) -> Order:
    return session.scalars(_locked(select(Order).where(Order.id == order_id))).one()


def order_by_token(session: Session, token: str | None) -> Order | None:
    return session.scalars(_locked(select(Order).where(Order.token == token))).one_or_none()


def order_by_payment_intent(session: Session, payment_intent_id: str | None) -> Order | None:
    if not payment_intent_id:
        return None
    return session.scalars(_locked(select(Order).where(Order.payment_intent_id == payment_intent_id))).one_or_none()


def event(session: Session, event_id: int) -> Event:
    return session.scalars(_locked(select(Event).where(Event.id == event_id))).one()


def waitlist_entry_by_token(session: Session, token: str) -> WaitlistEntry | None:
    return session.scalars(_locked(select(WaitlistEntry).where(WaitlistEntry.token == token))).one_or_none()


def waitlist_line(session: Session, ticket_type_id: int) -> list[WaitlistEntry]:
    """The places waiting for a ticket type, in line order (its lock taken first: ``line_joining``)."""
    return list(session.scalars(_locked(
        select(WaitlistEntry).where(WaitlistEntry.ticket_type_id == ticket_type_id,
                                    WaitlistEntry.status == WaitlistStatus.WAITING).order_by(WaitlistEntry.id))))


def deferred_places(session: Session, ticket_type_ids) -> list[WaitlistEntry]:
    """The places a waiting room deferred for these ticket types, in the order they asked (the
    ticket types locked first, as for ``waitlist_line``)."""
    return list(session.scalars(_locked(
        select(WaitlistEntry).where(WaitlistEntry.ticket_type_id.in_(sorted(ticket_type_ids)),
                                    WaitlistEntry.status == WaitlistStatus.DEFERRED).order_by(WaitlistEntry.id))))


def line_joining(session: Session, ticket_type_id: int) -> None:
    """A share lock on the ticket type while a place joins its line: joins do not wait for each
    other, but serving the line (which locks the row) waits for every join in flight, and a join
    waits for a serve in flight. So the places a serve reads are all that took an id before it,
    and the line's id order is the order it is served in."""
    session.execute(select(TicketType.id).where(TicketType.id == ticket_type_id).with_for_update(read=True))


def ticket_types(session: Session, ticket_type_ids) -> list[TicketType]:
    """Row-lock ticket types in id order; what was locked is what is returned, even if already loaded.

    FOR NO KEY UPDATE: it excludes every other locker and writer of these rows,
    but not the KEY SHARE that an uncommitted order item's foreign key holds on
    them (FOR UPDATE would deadlock two reservers that inserted first)."""
    return list(session.scalars(
        select(TicketType).where(TicketType.id.in_(sorted(ticket_type_ids)))
        .order_by(TicketType.id).with_for_update(key_share=True).execution_options(populate_existing=True)
    ))


def ticket_types_to_delete(session: Session, ticket_type_ids) -> list[TicketType]:
    """Row-lock ticket types about to be deleted, in id order. FOR UPDATE (unlike ``ticket_types``)
    waits for the KEY SHARE of every uncommitted order item, waiting-list place or check-in that
    refers to them, so the check that nothing does sees those, and no new one can refer to them
    until the deletion commits."""
    return list(session.scalars(
        select(TicketType).where(TicketType.id.in_(sorted(ticket_type_ids)))
        .order_by(TicketType.id).with_for_update().execution_options(populate_existing=True)
    ))

"""Finding one thing by what a request names: a published event by slug, a hold
by its token, an organizer's own event, ticket type or order. What is not
there, and what belongs to someone else, is the same NotFound."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..domain.errors import N_, NotFound
from ..domain.holds import effective_status_clause
from ..domain.models import HOLDING_STATUSES, Event, Order, OrderStatus, Organizer, TicketType
from ..infra.db import db

NO_EVENT = N_("There is no such event.")


def published_events(*, upcoming_at: datetime | None = None) -> list[Event]:
    """Published events with their ticket types, soonest first; with ``upcoming_at``,
    only those not over by then (the shop's list)."""
    query = select(Event).where(Event.published.is_(True)).options(selectinload(Event.ticket_types),
                                                                     selectinload(Event.waiting_room))
    if upcoming_at is not None:
        query = query.where(func.coalesce(Event.ends_at, Event.starts_at) > upcoming_at)
    return list(db.session.scalars(query.order_by(Event.starts_at, Event.id)))


def published_event(slug: str) -> Event:
    return published(Event.slug == slug)


def published(criterion) -> Event:
    """The event with its ticket types, in one query (every caller shows or checks them)."""
    event = db.session.scalars(
        select(Event).where(criterion, Event.published.is_(True)).options(joinedload(Event.ticket_types))
    ).unique().one_or_none()
    if event is None:
        raise NotFound(NO_EVENT)
    return event


def event_by_slug(slug: str) -> Event:
    """Any event, published or not (operators)."""
    return _owned(select(Event).where(Event.slug == slug), NO_EVENT)


def order_by_token(token: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.token == token))
    if order is None:
        raise NotFound(N_("There is no such reservation."))
    return order


def organizer_events(organizer_id: int) -> list[Event]:
    return list(db.session.scalars(
        select(Event).where(Event.organizer_id == organizer_id).order_by(Event.starts_at.desc(), Event.id.desc())
    ))


def owned_event(organizer_id: int, event_id: int) -> Event:
    """The event if this organizer owns it; any other id looks exactly like a missing one."""
    return _owned(select(Event).where(Event.id == event_id, Event.organizer_id == organizer_id), NO_EVENT)


def owned_event_by_slug(organizer: Organizer, slug: str) -> Event:
    return _owned(select(Event).where(Event.slug == slug, Event.organizer_id == organizer.id), NO_EVENT)


def owned_ticket_type(event: Event, ticket_type_id: int) -> TicketType:
    return _owned(select(TicketType).where(TicketType.id == ticket_type_id, TicketType.event_id == event.id),
                  N_("There is no such ticket type."))


def owned_order(event: Event, order_id: int) -> Order:
    return _owned(select(Order).where(Order.id == order_id, Order.event_id == event.id), N_("There is no such order."))


def _owned(query, missing: str):
    """The one row ``query`` finds, or NotFound with the message ``missing`` (a whole sentence per kind)."""
    found = db.session.scalar(query)
    if found is None:
        raise NotFound(missing)
    return found


def orders_of(email: str, *, at: datetime, limit: int = 50) -> list[Order]:
    """An address's orders that mean something to its owner (paid, refunded, or a hold
    still live at ``at``), newest first: what "find my tickets" lists."""
    shown = effective_status_clause(at)
    return list(db.session.scalars(
        select(Order).where(func.lower(Order.email) == email.strip().lower(),
                            shown.in_([s.value for s in (*HOLDING_STATUSES, OrderStatus.CONFIRMED,
                                                         OrderStatus.REFUNDED)]))
        .options(joinedload(Order.event)).order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)))

"""Events and ticket types of one organizer: ownership, creating, editing (no HTTP here)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from .. import inventory
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Event, Order, TicketType
from ..transactions import write_transaction

EVENT_FIELDS = ("title", "slug", "timezone", "venue", "description", "starts_at", "ends_at", "hold_minutes",
                "published")
TICKET_TYPE_FIELDS = ("name", "price", "currency", "capacity", "per_order_limit", "sales_start", "sales_end")


def organizer_events(organizer_id: int) -> list[Event]:
    return list(db.session.scalars(
        select(Event).where(Event.organizer_id == organizer_id).order_by(Event.starts_at.desc(), Event.id.desc())
    ))


def owned_event(organizer_id: int, event_id: int) -> Event:
    """The event if this organizer owns it; any other id looks exactly like a missing one."""
    event = db.session.scalar(select(Event).where(Event.id == event_id, Event.organizer_id == organizer_id))
    if event is None:
        raise NotFound("There is no such event.")
    return event


def owned_ticket_type(event: Event, ticket_type_id: int) -> TicketType:
    tt = db.session.scalar(select(TicketType).where(TicketType.id == ticket_type_id,
                                                    TicketType.event_id == event.id))
    if tt is None:
        raise NotFound("There is no such ticket type.")
    return tt


def owned_order(event: Event, order_id: int) -> Order:
    order = db.session.scalar(select(Order).where(Order.id == order_id, Order.event_id == event.id))
    if order is None:
        raise NotFound("There is no such order.")
    return order


def _check_slug_free(slug: str, event_id: int | None) -> None:
    taken = db.session.scalar(select(Event.id).where(Event.slug == slug, Event.id != (event_id or 0)))
    if taken:
        raise Conflict("This web address is already taken by another event; choose another slug.", field="slug")


def create_event(organizer_id: int, values: dict[str, Any]) -> Event:
    with write_transaction():
        _check_slug_free(values["slug"], None)
        event = Event(organizer_id=organizer_id, **{f: values[f] for f in EVENT_FIELDS})
        db.session.add(event)
    return event


def update_event(event: Event, values: dict[str, Any]) -> Event:
    event_id = event.id
    with write_transaction():
        event = db.session.scalars(select(Event).where(Event.id == event_id).with_for_update()).one()
        _check_slug_free(values["slug"], event_id)
        for field in EVENT_FIELDS:
            setattr(event, field, values[field])
    return event


def set_published(event: Event, published: bool) -> Event:
    event_id = event.id
    with write_transaction():
        event = db.session.scalars(select(Event).where(Event.id == event_id).with_for_update()).one()
        event.published = published
    return event


def create_ticket_type(event: Event, values: dict[str, Any]) -> TicketType:
    event_id = event.id
    with write_transaction():
        tt = TicketType(event_id=event_id, **{f: values[f] for f in TICKET_TYPE_FIELDS})
        db.session.add(tt)
    return tt


def update_ticket_type(ticket_type: TicketType, values: dict[str, Any], *, at: datetime | None = None) -> TicketType:
    """Edit a ticket type; a capacity below what is sold and held right now is refused.

    The row lock is the one reserving takes, so no hold can slip in between the
    check and the change.
    """
    tt_id, event_id = ticket_type.id, ticket_type.event_id
    with write_transaction():
        (tt,) = inventory.lock_ticket_types([tt_id])
        figure = inventory.availability(event_id, at=at, ticket_type_ids=[tt_id])[tt_id]
        if values["capacity"] < figure.sold + figure.held:
            raise Conflict(
                f"Capacity cannot go below {figure.sold + figure.held}: {figure.sold} sold and "
                f"{figure.held} held right now.", field="capacity")
        for field in TICKET_TYPE_FIELDS:
            setattr(tt, field, values[field])
    return tt

"""An organizer's events and ticket types: creating and editing them (no HTTP here)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..domain import capacity, locks
from ..domain.errors import Conflict, InvalidRequest
from ..domain.formatting import decimal_amount, from_minor_units, minor_units
from ..domain.models import Event, Order, TicketType
from ..infra.db import db
from ..infra.transactions import write_transaction

EVENT_FIELDS = ("title", "slug", "timezone", "venue", "description", "starts_at", "ends_at", "hold_minutes",
                "pending_payment_hours", "currency", "locale", "published")
TICKET_TYPE_FIELDS = ("name", "price", "capacity", "per_order_limit", "sales_start", "sales_end")


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
        event = locks.event(db.session, event_id)
        _check_slug_free(values["slug"], event_id)
        if values["currency"] != event.currency:
            _change_currency(event, values["currency"])
        for field in EVENT_FIELDS:
            setattr(event, field, values[field])
    return event


def _change_currency(event: Event, currency: str) -> None:
    """Prices keep their amounts in the new currency (25.50 EUR -> 25.50 USD). Refused once
    anything was ordered: an order is charged and refunded in the currency it was placed in."""
    if db.session.scalar(select(Order.id).where(Order.event_id == event.id).limit(1)):
        raise Conflict("The currency cannot change once tickets have been ordered.", field="currency")
    for tt in locks.ticket_types(db.session, [tt.id for tt in event.ticket_types]):
        try:
            tt.price = minor_units(from_minor_units(tt.price, event.currency), currency)
        except InvalidRequest:
            raise Conflict(f"{tt.name} costs {decimal_amount(tt.price, event.currency)} {event.currency}, "
                           f"which {currency} cannot express; change that price first.", field="currency") from None


def set_published(event: Event, published: bool) -> Event:
    event_id = event.id
    with write_transaction():
        event = locks.event(db.session, event_id)
        event.published = published
    return event


def create_ticket_type(event: Event, values: dict[str, Any]) -> TicketType:
    event_id = event.id
    with write_transaction():
        tt = TicketType(event_id=event_id, **{f: values[f] for f in TICKET_TYPE_FIELDS})
        db.session.add(tt)
    return tt


def update_ticket_type(ticket_type: TicketType, values: dict[str, Any]) -> TicketType:
    """Edit a ticket type; a capacity below what is sold and held right now is refused.

    The ticket type is locked and recounted by the locked recheck, as when
    reserving, so no hold can slip in between the check and the change.
    """
    tt_id, event_id = ticket_type.id, ticket_type.event_id
    with write_transaction():
        recheck = capacity.locked_recheck(db.session, event_id, {tt_id: 0})
        if refused := capacity.capacity_refusal(recheck.figures[tt_id], values["capacity"]):
            raise refused
        (tt,) = recheck.locked
        for field in TICKET_TYPE_FIELDS:
            setattr(tt, field, values[field])
    return tt

"""An organizer's events and ticket types: creating and editing them (no HTTP here)."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from ..domain import capacity, locks
from ..domain.errors import N_, Conflict, InvalidRequest, NotFound
from ..domain.formatting import UNSHOWABLE, decimal_amount, from_minor_units, minor_units, shown_in
from ..domain.models import CheckIn, Event, Order, OrderItem, TicketType, WaitlistEntry
from ..infra import room_store
from ..infra.db import db
from ..infra.redis import RedisError
from ..infra.transactions import write_transaction

log = logging.getLogger(__name__)

EVENT_FIELDS = ("title", "slug", "timezone", "venue", "description", "starts_at", "ends_at", "hold_minutes",
                "pending_payment_hours", "max_holds_per_client", "release_cooldown_seconds", "currency", "locale",
                "published", "offer_minutes", "waitlist_partial_offers", "renewal_minutes", "max_renewals")
TICKET_TYPE_FIELDS = ("name", "price", "capacity", "per_order_limit", "sales_start", "sales_end")
SALES_WINDOW = ("sales_start", "sales_end")
# The waiting list's and renewals' settings: field -> (least, most, message). The form checks them
# field by field; the service again, for any other caller (the table's CHECKs are the last line).
EVENT_RANGES = {
    "offer_minutes": (1, 1440, N_("An offer to the waiting list lasts between 1 and 1440 minutes.")),
    "renewal_minutes": (1, 60, N_("A renewal adds between 1 and 60 minutes.")),
    "max_renewals": (0, 100, N_("Between 0 (no renewals) and 100 renewals per hold.")),
}


def _check_slug_free(slug: str, event_id: int | None) -> None:
    taken = db.session.scalar(select(Event.id).where(Event.slug == slug, Event.id != (event_id or 0)))
    if taken:
        raise Conflict(N_("This web address is already taken by another event; choose another slug."), field="slug")


def _check_shown(values: dict[str, Any], fields: tuple[str, ...], tz: str) -> None:
    """Every date must be showable in the event's zone and in UTC, or every page showing it fails."""
    for field in fields:
        if values.get(field) is not None and not shown_in(values[field], tz):
            raise InvalidRequest(UNSHOWABLE, field=field)


def _check_zone_change(event: Event, tz: str) -> None:
    """A new zone must be able to show the ticket types' sales windows too (they were checked
    against the old one)."""
    for tt in event.ticket_types:
        for moment in (tt.sales_start, tt.sales_end):
            if moment is not None and not shown_in(moment, tz):
                raise InvalidRequest(N_("The sales window of “%(name)s” cannot be shown in %(timezone)s; "
                                        "change it first."), field="timezone", name=tt.name, timezone=tz)


def _check_ranges(values: dict[str, Any]) -> None:
    for field, (least, most, message) in EVENT_RANGES.items():
        value = values[field]
        if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
            raise InvalidRequest(message, field=field)


def create_event(organizer_id: int, values: dict[str, Any]) -> Event:
    _check_ranges(values)
    _check_shown(values, ("starts_at", "ends_at"), values["timezone"])
    with write_transaction():
        _check_slug_free(values["slug"], None)
        event = Event(organizer_id=organizer_id, **{f: values[f] for f in EVENT_FIELDS})
        db.session.add(event)
    return event


def update_event(event: Event, values: dict[str, Any]) -> Event:
    event_id = event.id
    _check_ranges(values)
    with write_transaction():
        event = locks.event(db.session, event_id)
        _check_slug_free(values["slug"], event_id)
        _check_shown(values, ("starts_at", "ends_at"), values["timezone"])
        if values["timezone"] != event.timezone:
            _check_zone_change(event, values["timezone"])
        if values["currency"] != event.currency:
            _change_currency(event, values["currency"])
        for field in EVENT_FIELDS:
            setattr(event, field, values[field])
    return event


def _change_currency(event: Event, currency: str) -> None:
    """Prices keep their amounts in the new currency (25.50 EUR -> 25.50 USD). Refused once
    anything was ordered: an order is charged and refunded in the currency it was placed in."""
    if db.session.scalar(select(Order.id).where(Order.event_id == event.id).limit(1)):
        raise Conflict(N_("The currency cannot change once tickets have been ordered."), field="currency")
    for tt in locks.ticket_types(db.session, [tt.id for tt in event.ticket_types]):
        try:
            tt.price = minor_units(from_minor_units(tt.price, event.currency), currency)
        except InvalidRequest:
            raise Conflict(N_("%(name)s costs %(amount)s %(currency)s, which %(new_currency)s cannot express; "
                              "change that price first."), field="currency", name=tt.name,
                           amount=decimal_amount(tt.price, event.currency), currency=event.currency,
                           new_currency=currency) from None


def set_published(event: Event, published: bool) -> Event:
    event_id = event.id
    with write_transaction():
        event = locks.event(db.session, event_id)
        event.published = published
    return event


def create_ticket_type(event: Event, values: dict[str, Any]) -> TicketType:
    event_id = event.id
    _check_shown(values, SALES_WINDOW, event.timezone)
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
    _check_shown(values, SALES_WINDOW, ticket_type.event.timezone)
    with write_transaction():
        recheck = capacity.locked_recheck(db.session, event_id, {tt_id: 0})
        if refused := capacity.capacity_refusal(recheck.figures[tt_id], values["capacity"]):
            raise refused
        (tt,) = recheck.locked
        for field in TICKET_TYPE_FIELDS:
            setattr(tt, field, values[field])
    return tt


# --- deleting what nobody used ---------------------------------------------------------
# Anything once ordered, waited for or let in stays: buyers' orders, the audit trail and the
# accounts refer to it. What refers to an event, and to a ticket type, in the order checked.
# Each with the whole refusal (what it has, in a sentence of its own for every language).
_EVENT_USES = (
    (Order.event_id, N_("This event cannot be deleted: it has orders (of any status), which are kept "
                        "for the buyers' records. Leave it unpublished instead.")),
    (WaitlistEntry.event_id, N_("This event cannot be deleted: it has places on a waiting list (of any status), "
                                "which are kept for the buyers' records. Leave it unpublished instead.")),
    (CheckIn.event_id, N_("This event cannot be deleted: it has check-ins (of any status), which are kept "
                          "for the buyers' records. Leave it unpublished instead.")))
_TICKET_TYPE_USES = (
    (OrderItem.ticket_type_id, N_("“%(name)s” cannot be deleted: it has orders (of any status), which are kept "
                                  "for the buyers' records. End its sales window instead.")),
    (WaitlistEntry.ticket_type_id, N_("“%(name)s” cannot be deleted: it has places on a waiting list (of any "
                                      "status), which are kept for the buyers' records. End its sales window "
                                      "instead.")),
    (CheckIn.ticket_type_id, N_("“%(name)s” cannot be deleted: it has check-ins (of any status), which are kept "
                                "for the buyers' records. End its sales window instead.")))


def _used_by(uses, row_id: int) -> str | None:
    """The refusal of the first use found, or None."""
    for column, refusal in uses:
        if db.session.scalar(select(column).where(column == row_id).limit(1)) is not None:
            return refusal
    return None


def event_deletion_refusal(event: Event) -> Conflict | None:
    """Why ``event`` cannot be deleted now, or None: only a draft nobody ever ordered from."""
    if event.published:
        return Conflict(N_("A published event cannot be deleted: unpublish it first."))
    if refusal := _used_by(_EVENT_USES, event.id):
        return Conflict(refusal)
    return None


def ticket_type_deletion_refusal(ticket_type: TicketType) -> Conflict | None:
    if refusal := _used_by(_TICKET_TYPE_USES, ticket_type.id):
        return Conflict(refusal, name=ticket_type.name)
    return None


def delete_event(event: Event) -> None:
    """Delete a draft event with its ticket types and waiting room. The event and its ticket types
    are locked first, so no order, place or check-in can come in between the check and the delete."""
    event_id = event.id
    with write_transaction():
        event = locks.event(db.session, event_id)
        locks.ticket_types_to_delete(db.session, [tt.id for tt in event.ticket_types])
        if refused := event_deletion_refusal(event):
            raise refused
        db.session.delete(event)
    try:  # a room that was ever published leaves its queue in Redis; a stale one is only unused keys
        room_store.drop(event_id)
    except RedisError as error:
        log.warning("deleted event %s: its waiting room keys stay in Redis: %s", event_id, error)


def delete_ticket_type(ticket_type: TicketType) -> None:
    with write_transaction():
        found = locks.ticket_types_to_delete(db.session, [ticket_type.id])
        if not found:
            raise NotFound(N_("There is no such ticket type."))
        if refused := ticket_type_deletion_refusal(found[0]):
            raise refused
        db.session.delete(found[0])

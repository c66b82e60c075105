"""Availability for display and for the unlocked fast path, from a short shared
memory (see availability_cache). The locked recheck never reads it.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..domain import capacity, renewals, waiting_room
from ..domain.capacity import Availability
from ..domain.clock import now as clock_now
from ..domain.holds import effective_status_clause, holds_clause
from ..domain.models import Event, Order, OrderItem, OrderStatus, TicketType, WaitingRoom
from ..infra.db import db
from . import availability_cache
from .lookups import published_event

_FIGURES = "figures"  # availability_cache kind: the event-wide figures, by event id
_CATALOG = "catalog"  # availability_cache kind: what validating a reservation reads, by slug
_CATALOG_FIELDS = ("id", "name", "price", "per_order_limit", "sales_start", "sales_end")
_ROOM_FIELDS = ("enabled", "opens_minutes_before", "closed_at")  # whether the waiting room guards reserving


def figures(event_id: int, *, at: datetime | None = None, viewer_token: str | None = None,
            ticket_type_ids: list[int] | None = None) -> dict[int, Availability]:
    """Exact figures from the database (organizer pages, the CLI, the API's event list)."""
    return capacity.availability(db.session, event_id, at=at, viewer_token=viewer_token,
                                 ticket_type_ids=ticket_type_ids)


def for_display(event_id: int, *, at: datetime | None = None,
                viewer_token: str | None = None) -> dict[int, Availability]:
    """What buyers are shown and the unlocked fast path reads: the event's figures
    come from the shared cache, the viewer's own holds from one query by their
    token. Never use it under a lock."""
    at = at or clock_now()
    rows = availability_cache.cached(_FIGURES, event_id, at, lambda: _cacheable_figures(event_id, at))
    return _from_rows(rows, _held_by(viewer_token, event_id, at) if viewer_token else {})


def _from_rows(rows: list, mine: Mapping[int, int]) -> dict[int, Availability]:
    return {
        tt_id: Availability(tt_id, cap, sold, held, mine.get(tt_id, 0),
                            datetime.fromisoformat(release) if release else None, waiting, people)
        for tt_id, cap, sold, held, release, waiting, people in rows
    }


def refuse_early(event_id: int, wanted: Mapping[int, int], at: datetime) -> None:
    """The fast path: refuse from the shared figures, without a lock. In a rush
    every grant outdates them; an outdated entry that still shows enough makes
    recounting pointless here, since the locked recheck recounts anyway."""
    def enough(rows) -> bool:
        shown = _from_rows(rows, {})
        return all(tt_id in shown and shown[tt_id].available >= qty for tt_id, qty in wanted.items())

    rows = availability_cache.cached(_FIGURES, event_id, at, lambda: _cacheable_figures(event_id, at),
                                     pointless_if=enough)
    shown = _from_rows(rows, {}) if rows is not None else {}
    # Figures without a wanted type are newer than the catalog that validated it (deleted since):
    # the reserving transaction checks the event as stored.
    if wanted.keys() <= shown.keys() and (refused := capacity.refusal(wanted, shown)):
        raise refused


def note_turned_away(ticket_type_id: int | None, at: datetime | None = None) -> None:
    """Remember that a buyer just found ``ticket_type_id`` all reserved: for the renewal
    window, holders of it may not renew (renewing would keep tickets from them)."""
    if ticket_type_id is not None:
        availability_cache.note_turned_away(ticket_type_id, at or clock_now(), renewals.WINDOW.total_seconds())


def turned_away_recently(ticket_type_ids, at: datetime) -> bool:
    return availability_cache.turned_away_since(ticket_type_ids, at - renewals.WINDOW)


def _cacheable_figures(event_id: int, at: datetime) -> tuple[list, datetime]:
    """The event-wide figures as JSON rows, true until the first live hold lapses."""
    found = figures(event_id, at=at).values()
    valid_until = min([at + timedelta(seconds=availability_cache.lifetime_seconds()),
                       *(f.next_release_at for f in found if f.next_release_at)])
    rows = [[f.ticket_type_id, f.capacity, f.sold, f.held,
             f.next_release_at.isoformat() if f.next_release_at else None, f.waiting, f.waiting_people]
            for f in found]
    return rows, valid_until


def shown_until(event: Event, at: datetime) -> datetime:
    """When a rendering of the event's availability made at ``at`` may stop being
    true: the cache's lifetime, the earliest live hold's expiry, a sales window edge."""
    releases = [f.next_release_at for f in for_display(event.id, at=at).values() if f.next_release_at]
    return _true_until(event, at, releases)


def _true_until(event: Event, at: datetime, releases=()) -> datetime:
    edges = [moment for tt in event.ticket_types for moment in (tt.sales_start, tt.sales_end)
             if moment is not None and moment > at]
    if (when := waiting_room.schedule(event.waiting_room, event.ticket_types)) and when.opens_at > at:
        edges.append(when.opens_at)  # from then the room stands in front of reserving
    return min([at + timedelta(seconds=availability_cache.lifetime_seconds()), *releases, *edges])


def _held_by(token: str, event_id: int, at: datetime) -> dict[int, int]:
    """{ticket type id: quantity} the holder of ``token`` holds right now."""
    rows = db.session.execute(
        select(OrderItem.ticket_type_id, func.sum(OrderItem.quantity))
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.token == token, Order.event_id == event_id, holds_clause(at))
        .group_by(OrderItem.ticket_type_id)
    )
    return {tt_id: int(quantity) for tt_id, quantity in rows}


# --- the published catalog, shared --------------------------------------------

def catalog_event(slug: str, at: datetime) -> Event:
    """The published event ``slug`` (NotFound otherwise), as a detached copy from the
    shared catalog when one is valid, so a request that must be refused (bad input,
    sales closed, clearly sold out: what buyers retrying after a sell-out send)
    costs no database work. Validate with it; never write through it."""
    if shared := availability_cache.lookup_named(_CATALOG, slug, at):
        return _event_from(shared[1])
    event = published_event(slug)
    availability_cache.store_named(_CATALOG, slug, event.id, availability_cache.generation(event.id), at,
                                   _true_until(event, at), _catalog(event))
    return event


def _catalog(event: Event) -> dict:
    def plain(value):
        return value.isoformat() if isinstance(value, datetime) else value

    room = event.waiting_room
    return {"id": event.id, "hold_minutes": event.hold_minutes,
            "ticket_types": [{name: plain(getattr(tt, name)) for name in _CATALOG_FIELDS} for tt in event.ticket_types],
            "room": room and {name: plain(getattr(room, name)) for name in _ROOM_FIELDS}}


def _event_from(catalog: dict) -> Event:
    """A detached, never-added Event with its ticket types, for validating only."""
    def when(value):
        return datetime.fromisoformat(value) if value else None

    room = catalog["room"]
    return Event(id=catalog["id"], hold_minutes=catalog["hold_minutes"], ticket_types=[
        TicketType(**{**tt, "sales_start": when(tt["sales_start"]), "sales_end": when(tt["sales_end"])})
        for tt in catalog["ticket_types"]],
        waiting_room=room and WaitingRoom(**{**room, "closed_at": when(room["closed_at"])}))


# --- the waiting room ---------------------------------------------------------

def lapsing(event_id: int, at: datetime, until: datetime) -> dict[int, int]:
    """{ticket type id: tickets} in live holds that lapse by ``until`` unless paid (a waiting
    room's "may come back soon"); a pending bank debit is not counted."""
    rows = db.session.execute(
        select(OrderItem.ticket_type_id, func.sum(OrderItem.quantity))
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.event_id == event_id, holds_clause(at), Order.expires_at <= until,
               Order.payment_pending.is_(False))
        .group_by(OrderItem.ticket_type_id)
    )
    return {tt_id: int(quantity) for tt_id, quantity in rows}


def room_holds(event_id: int, at: datetime) -> dict[str, int]:
    """Holds placed through the event's waiting room: placed, lapsed (shown expired), paid."""
    status = effective_status_clause(at)
    rows = dict(db.session.execute(
        select(status, func.count()).where(Order.event_id == event_id, Order.room_place.is_not(None))
        .group_by(status)).all())
    return {"holds_placed": sum(rows.values()), "holds_lapsed": rows.get(OrderStatus.EXPIRED, 0),
            "holds_paid": rows.get(OrderStatus.CONFIRMED, 0) + rows.get(OrderStatus.REFUNDED, 0)}


def room_places_used(event_id: int, places: list[int]) -> dict[int, datetime]:
    """{place: when its hold was placed} for those of ``places`` whose admission placed one."""
    rows = db.session.execute(select(Order.room_place, Order.created_at)
                              .where(Order.event_id == event_id, Order.room_place.in_(places)))
    return dict(rows.all())

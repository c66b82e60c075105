"""Availability and holds: the only place that counts tickets.

``sold`` is a counter on the ticket type (kept by the state machine), ``held``
sums live holds through a partial index that covers only holding statuses, so
both cost the number of live holds, never the order history. Reserving locks
the ticket type rows in id order inside one short transaction; nothing in
here talks to the network.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from blinker import signal
from sqlalchemy import and_, bindparam, case, func, inspect, or_, select
from sqlalchemy.orm import joinedload

from . import availability_cache, orders
from .clock import now as clock_now
from .errors import AllReserved, InvalidRequest, NotFound, SalesClosed, SoldOut
from .extensions import db
from .models import HOLDING_STATUSES, Event, Order, OrderItem, OrderStatus, TicketType
from .transactions import write_transaction

# Sent after a hold is committed (receivers: expiry scheduling, watchers).
hold_placed = signal("hold-placed")

# PostgreSQL refuses NUL in text (a 500 instead of a 422), and no address has control characters.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Availability:
    ticket_type_id: int
    capacity: int
    sold: int
    held: int
    held_by_you: int
    next_release_at: datetime | None  # earliest expiry among live holds (not pending payments)

    @property
    def held_by_others(self) -> int:
        return self.held - self.held_by_you

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.sold - self.held)


# --- the one rule for "this order holds tickets right now" -------------------

def holds_clause(at: datetime):
    """SQL: a hold counts while it has not lapsed, or while a submitted
    (async) payment awaits its outcome. It stops counting at ``expires_at``."""
    return and_(
        Order.status.in_(HOLDING_STATUSES),
        or_(Order.expires_at > at,
            and_(Order.status == OrderStatus.PAYMENT_PROCESSING, Order.payment_pending)),
    )


def holds_at(order: Order, at: datetime) -> bool:
    """Python twin of ``holds_clause`` for one loaded order."""
    return order.status in HOLDING_STATUSES and (
        order.expires_at > at or (order.status == OrderStatus.PAYMENT_PROCESSING and order.payment_pending)
    )


# --- reading ----------------------------------------------------------------

def availability(
    event_id: int, *, at: datetime | None = None, viewer_token: str | None = None,
    ticket_type_ids: list[int] | None = None,
) -> dict[int, Availability]:
    """Figures per ticket type of one event at instant ``at``, in one query."""
    params = {"event_id": event_id, "at": at or clock_now()}
    if viewer_token:
        params["viewer_token"] = viewer_token
    if ticket_type_ids is not None:
        params["ticket_type_ids"] = list(ticket_type_ids)
    query = _availability_query(bool(viewer_token), ticket_type_ids is not None)
    return {
        row.id: Availability(row.id, row.capacity, row.sold, int(row.held or 0), int(row.mine or 0),
                             row.next_release_at)
        for row in db.session.execute(query, params)
    }


@functools.cache
def _availability_query(for_viewer: bool, some_types: bool):
    """Built once per shape, with bound parameters: building it per call cost
    0.8 ms of CPU, inside the ticket type lock when reserving."""
    mine = case((Order.token == bindparam("viewer_token"), OrderItem.quantity), else_=0) if for_viewer else 0
    releasing = case((Order.payment_pending.is_(False), Order.expires_at))
    held = (
        select(
            OrderItem.ticket_type_id.label("tt_id"),
            func.sum(OrderItem.quantity).label("held"),
            func.sum(mine).label("mine"),
            func.min(releasing).label("next_release_at"),
        )
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.event_id == bindparam("event_id"), holds_clause(bindparam("at", type_=Order.expires_at.type)))
        .group_by(OrderItem.ticket_type_id)
        # A fence: always live holds first (partial index), then their items by
        # order id. Inlined, PostgreSQL pushes the ticket type filter inside and,
        # with stale statistics on a fresh ticket type (an on-sale), picks a nested
        # loop that rescans every live hold per item: quadratic in a rush.
        .cte("held")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    query = (
        select(TicketType.id, TicketType.capacity, TicketType.sold, held.c.held, held.c.mine,
               held.c.next_release_at)
        .outerjoin(held, held.c.tt_id == TicketType.id)
        .where(TicketType.event_id == bindparam("event_id"))
        .order_by(TicketType.id)
    )
    if some_types:
        query = query.where(TicketType.id.in_(bindparam("ticket_type_ids", expanding=True)))
    return query


_FIGURES = "figures"  # availability_cache kind: the event-wide figures, by event id


def availability_for_display(event_id: int, *, at: datetime | None = None,
                             viewer_token: str | None = None) -> dict[int, Availability]:
    """``availability`` for what buyers are shown and the unlocked fast path:
    the event's figures come from the shared cache (see availability_cache),
    the viewer's own holds from one query by their token. Never use it under a lock."""
    at = at or clock_now()
    rows = availability_cache.cached(_FIGURES, event_id, at, lambda: _cacheable_figures(event_id, at))
    return _from_rows(rows, _held_by(viewer_token, event_id, at) if viewer_token else {})


def _from_rows(rows: list, mine: Mapping[int, int]) -> dict[int, Availability]:
    return {
        tt_id: Availability(tt_id, capacity, sold, held, mine.get(tt_id, 0),
                            datetime.fromisoformat(release) if release else None)
        for tt_id, capacity, sold, held, release in rows
    }


def _refuse_early(event_id: int, wanted: Mapping[int, int], at: datetime) -> None:
    """The fast path: refuse from the shared figures, without a lock. In a rush
    every grant outdates them; an outdated entry that still shows enough makes
    recounting pointless here, since the locked re-check recounts anyway."""
    def enough(rows) -> bool:
        figures = _from_rows(rows, {})
        return all(tt_id in figures and figures[tt_id].available >= qty for tt_id, qty in wanted.items())

    rows = availability_cache.cached(_FIGURES, event_id, at, lambda: _cacheable_figures(event_id, at),
                                     pointless_if=enough)
    if rows is not None:
        _check_enough(wanted, _from_rows(rows, {}))


def _cacheable_figures(event_id: int, at: datetime) -> tuple[list, datetime]:
    """The event-wide figures as JSON rows, true until the first live hold lapses."""
    figures = availability(event_id, at=at).values()
    valid_until = min([at + timedelta(seconds=availability_cache.lifetime_seconds()),
                       *(f.next_release_at for f in figures if f.next_release_at)])
    rows = [[f.ticket_type_id, f.capacity, f.sold, f.held,
             f.next_release_at.isoformat() if f.next_release_at else None] for f in figures]
    return rows, valid_until


def shown_until(event: Event, at: datetime) -> datetime:
    """When a rendering of the event's availability made at ``at`` may stop being
    true: the cache's lifetime, the earliest live hold's expiry, a sales window edge."""
    releases = [f.next_release_at for f in availability_for_display(event.id, at=at).values() if f.next_release_at]
    return _true_until(event, at, releases)


def _true_until(event: Event, at: datetime, releases=()) -> datetime:
    edges = [moment for tt in event.ticket_types for moment in (tt.sales_start, tt.sales_end)
             if moment is not None and moment > at]
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


def published_event(slug: str) -> Event:
    return _published(Event.slug == slug)


def _published(criterion) -> Event:
    """The event with its ticket types, in one query (every caller shows or checks them)."""
    event = db.session.scalars(
        select(Event).where(criterion, Event.published.is_(True)).options(joinedload(Event.ticket_types))
    ).unique().one_or_none()
    if event is None:
        raise NotFound("There is no such event.")
    return event


def order_by_token(token: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.token == token))
    if order is None:
        raise NotFound("There is no such reservation.")
    return order


# --- reserving --------------------------------------------------------------

def reserve(event: Event, quantities: Mapping[int, int], email: str, *, at: datetime | None = None) -> Order:
    """Place a hold for ``quantities`` ({ticket_type_id: qty}) or raise a DomainError.

    Bad input and an unlocked "clearly not enough" answer cost no lock; the
    locked transaction re-checks, so two buyers can never take the same ticket.

    The order is written first and the ticket types locked after: until the
    commit nobody else sees the new rows, so the lock covers only the recount
    and the commit (the rush's serial section), not the inserts.
    """
    at = at or clock_now()
    wanted = _validate(event, quantities, email, at)
    _refuse_early(event.id, wanted, at)
    prices = {tt.id: tt.price for tt in event.ticket_types}
    order = Order(event_id=event.id, email=email, expires_at=at + timedelta(minutes=event.hold_minutes),
                  created_at=at, updated_at=at)
    order.items = [OrderItem(ticket_type_id=tt_id, quantity=qty, unit_price=prices[tt_id])
                   for tt_id, qty in sorted(wanted.items())]
    # The order, its items and the event stay loaded past the commit: the caller
    # shows them, and they are exactly what was committed.
    try:
        with write_transaction(expire_on_commit=False):
            db.session.add(order)
            orders.transition(order, OrderStatus.RESERVED, reason="buyer reserved", actor=f"buyer:{email}")
            db.session.flush()
            locked = lock_ticket_types(wanted)
            figures = availability(order.event_id, at=at, ticket_type_ids=list(wanted))
            _check_enough(wanted, {tt_id: replace(f, held=f.held - wanted[tt_id]) for tt_id, f in figures.items()})
            for item, tt in zip(order.items, locked):  # both in ticket type id order
                item.unit_price = tt.price  # a price edited meanwhile: what was locked counts
    except (SoldOut, AllReserved):
        # The shared figures let this one through: refresh them, so the next
        # buyers are refused without a lock (the fast path kept an outdated entry).
        availability_for_display(order.event_id, at=at)
        raise
    hold_placed.send(order)
    return order


def event_for_reserving(slug: str) -> Event:
    """The published event ``slug`` (NotFound otherwise) for ``reserve_at``: a
    detached copy from the shared catalog when one is valid, so a request that
    must be refused (bad input, sales closed, clearly sold out: what buyers
    retrying after a sell-out send) costs no database work."""
    at = clock_now()
    if shared := availability_cache.lookup_named(_CATALOG, slug, at):
        return _event_from(shared[1])
    event = published_event(slug)
    availability_cache.store_named(_CATALOG, slug, event.id, availability_cache.generation(event.id), at,
                                   _true_until(event, at), _catalog(event))
    return event


def reserve_at(event: Event, quantities: Mapping[int, int], email: str) -> Order:
    """``reserve`` on what ``event_for_reserving`` gave: a catalog copy only
    refuses; a request it lets through is reserved on the event as stored."""
    if inspect(event).transient:
        at = clock_now()
        _refuse_early(event.id, _validate(event, quantities, email, at), at)
        event = _published(Event.id == event.id)
    return reserve(event, quantities, email)


_CATALOG = "catalog"  # availability_cache kind: what validating a reservation reads, by slug
_CATALOG_FIELDS = ("id", "name", "price", "per_order_limit", "sales_start", "sales_end")


def _catalog(event: Event) -> dict:
    def plain(value):
        return value.isoformat() if isinstance(value, datetime) else value

    return {"id": event.id, "hold_minutes": event.hold_minutes,
            "ticket_types": [{name: plain(getattr(tt, name)) for name in _CATALOG_FIELDS} for tt in event.ticket_types]}


def _event_from(catalog: dict) -> Event:
    """A detached, never-added Event with its ticket types, for validating only."""
    def when(value):
        return datetime.fromisoformat(value) if value else None

    return Event(id=catalog["id"], hold_minutes=catalog["hold_minutes"], ticket_types=[
        TicketType(**{**tt, "sales_start": when(tt["sales_start"]), "sales_end": when(tt["sales_end"])})
        for tt in catalog["ticket_types"]])


def lock_ticket_types(ticket_type_ids) -> list[TicketType]:
    """Row-lock ticket types in id order, so multi-type orders cannot deadlock;
    what was locked is what is returned, even if already loaded.

    FOR NO KEY UPDATE: it excludes every other locker and writer of these rows,
    but not the KEY SHARE that an uncommitted order item's foreign key holds on
    them (FOR UPDATE would deadlock two reservers that inserted first)."""
    return list(db.session.scalars(
        select(TicketType).where(TicketType.id.in_(sorted(ticket_type_ids)))
        .order_by(TicketType.id).with_for_update(key_share=True).execution_options(populate_existing=True)
    ))


def _validate(event: Event, quantities: Mapping[int, int], email: str, at: datetime) -> dict[int, int]:
    if not email or "@" not in email or len(email) > 254 or _CONTROL_CHARACTERS.search(email):
        raise InvalidRequest("Enter a valid email address.", field="email")
    types = {tt.id: tt for tt in event.ticket_types}
    wanted: dict[int, int] = {}
    for tt_id, qty in quantities.items():
        tt = types.get(tt_id)
        if tt is None:
            raise InvalidRequest("That ticket type is not part of this event.", field="items")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise InvalidRequest(f"Choose a whole number of {tt.name} tickets.", field="items")
        if qty > tt.per_order_limit:
            raise InvalidRequest(f"At most {tt.per_order_limit} {tt.name} tickets per order.", field="items")
        if qty == 0:
            continue
        if not tt.on_sale(at):
            raise SalesClosed(f"Sales for {tt.name} are closed.", field="items")
        wanted[tt_id] = qty
    if not wanted:
        raise InvalidRequest("Choose at least one ticket.", field="items")
    return wanted


def _check_enough(wanted: Mapping[int, int], figures: Mapping[int, Availability]) -> None:
    for tt_id, qty in sorted(wanted.items()):
        figure = figures[tt_id]
        if figure.available >= qty:
            continue
        if figure.capacity - figure.sold >= qty and figure.held:
            raise AllReserved(
                "All remaining tickets are reserved by other buyers; some may come back.",
                retry_at=figure.next_release_at, field="items",
            )
        left = figure.available
        raise SoldOut("Sold out." if left == 0 else f"Only {left} left.", field="items")


# --- leaving a hold ----------------------------------------------------------

def _locked_order(order_id: int) -> Order:
    return db.session.scalars(select(Order).where(Order.id == order_id).with_for_update()).one()


def release(order: Order, *, actor: str) -> Order:
    """The holder (or organizer) gives the tickets back."""
    order_id = order.id
    with write_transaction():
        order = _locked_order(order_id)
        orders.transition(order, OrderStatus.CANCELLED, reason="hold released", actor=actor)
    return order


def expire_if_lapsed(order_id: int, *, at: datetime | None = None, actor: str = "system:expiry") -> bool:
    """Mark one lapsed hold expired (availability already stopped counting it)."""
    at = at or clock_now()
    with write_transaction():
        order = _locked_order(order_id)
        if order.status not in HOLDING_STATUSES or holds_at(order, at):
            return False
        return orders.transition(order, OrderStatus.EXPIRED, reason="hold lapsed", actor=actor)


def confirm_payment(order_id: int, *, reason: str, actor: str, at: datetime | None = None) -> bool:
    """Apply a successful payment. Returns True if the order is (now) confirmed,
    False if no capacity remained: the order is then expired/cancelled and the
    caller must refund it (outside this transaction: a network call).

    A live hold simply turns into a sale. A late payment (hold lapsed, expired
    or released) is confirmed only if capacity remains, checked under the same
    locks as reserving.
    """
    at = at or clock_now()
    with write_transaction():
        order = _locked_order(order_id)
        if order.status in (OrderStatus.CONFIRMED, OrderStatus.REFUNDED):
            return order.status == OrderStatus.CONFIRMED
        wanted = {item.ticket_type_id: item.quantity for item in order.items}
        lock_ticket_types(wanted)
        if not holds_at(order, at):
            figures = availability(order.event_id, at=at, ticket_type_ids=list(wanted))
            if any(figures[tt_id].available < qty for tt_id, qty in wanted.items()):
                if order.status in HOLDING_STATUSES:
                    orders.transition(order, OrderStatus.EXPIRED, reason="paid after the hold lapsed; no capacity left", actor=actor)
                return False
            reason = f"{reason} (late payment; capacity remained)"
        orders.transition(order, OrderStatus.CONFIRMED, reason=reason, actor=actor)
        return True

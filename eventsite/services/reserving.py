"""Placing and giving back holds: the one way shop and API reserve and release.

Bad input and an unlocked "clearly not enough" answer cost no lock; the
locked recheck (``domain.capacity.locked_recheck``) decides, so two buyers
can never take the same ticket. Nothing in here talks to the network.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from ..domain import capacity, hoarding, locks, rules
from ..domain.clock import now as clock_now
from ..domain.errors import N_, AdmissionRefused, AllReserved, HoldExpired, InvalidRequest, SalesClosed, SoldOut
from ..domain.holds import lapsed_at
from ..domain.models import Event, ObligationKind, Order, OrderItem, OrderStatus
from ..domain.obligations import promise
from ..domain.state_machine import transition
from ..domain.waiting_room import ADMISSION_USED
from ..infra import metrics
from ..infra.db import db
from ..infra.transactions import write_transaction
from ..readmodels import availability, lookups
from . import expiry_timer, waiting_room

MAX_CLIENT_ADDRESS = 45  # orders.client_address
FOREIGN_KEY_VIOLATION = "23503"  # an organizer deleted the (unused) ticket type while this hold was placed
ROOM_PLACE = "room_place"  # named by the unique index's violation on both databases: one hold per admission


def reserve(slug: str, quantities: Mapping[int, int], email: str, *, client_address: str | None = None,
            admission: str | None = None, language: str = "en", at: datetime | None = None) -> Order:
    """Place a hold on the published event ``slug`` for ``quantities``
    ({ticket_type_id: qty}) or raise a DomainError, changing nothing.
    ``client_address`` (the request's) counts the hold against the event's
    per-client cap; the limits against hoarding are ``domain.hoarding``'s. While the event's
    waiting room is open, ``admission`` (from the room) is required, and places one hold.

    A request that must be refused is refused from the shared catalog and
    figures, without a query when they are fresh. The order is written first
    and the ticket types locked after: until the commit nobody else sees the
    new rows, so the lock covers only the recount and the commit (the rush's
    serial section), not the inserts.
    """
    client_address = client_address[:MAX_CLIENT_ADDRESS] if client_address else None  # an IPv6 zone id may be longer
    with metrics.RESERVE_SECONDS.time():
        try:
            order = _reserve(slug, quantities, email, client_address, admission, language, at or clock_now())
        except AllReserved as refused:  # someone is waiting for tickets that holders might renew
            availability.note_turned_away(refused.ticket_type_id)
            raise
    metrics.HOLDS_PLACED.inc()
    return order


def new_hold(event: Event, email: str, wanted: Mapping[int, int], at: datetime, *, minutes: int,
             client_address: str | None = None, language: str = "en") -> Order:
    """A new order holding ``wanted`` ({ticket type id: quantity}) for ``minutes`` from ``at``, at
    the event's prices; the caller adds it, makes it reserved and rechecks under the locks."""
    prices = {tt.id: tt.price for tt in event.ticket_types}
    order = Order(event_id=event.id, email=email, client_address=client_address, language=language,
                  currency=event.currency,
                  expires_at=at + timedelta(minutes=minutes), created_at=at, updated_at=at)
    order.items = [OrderItem(ticket_type_id=tt_id, quantity=qty, unit_price=prices[tt_id])
                   for tt_id, qty in sorted(wanted.items())]
    return order


def _reserve(slug: str, quantities: Mapping[int, int], email: str, client_address: str | None,
             admission: str | None, language: str, at: datetime) -> Order:
    event = availability.catalog_event(slug, at)
    admitted = waiting_room.admission_for(event, admission, at)
    email = rules.email_address(email)  # stored as checked: trimmed and normalized
    wanted = _validate(event, quantities, at)
    availability.refuse_early(event.id, wanted, at)
    if inspect(event).transient:  # the shared copy only refuses: reserve on the event as stored
        event = lookups.published(Event.id == event.id)
        wanted = _validate(event, quantities, at)  # as stored now (a ticket type may have gone since)
    order = new_hold(event, email, wanted, at, minutes=event.hold_minutes, client_address=client_address,
                     language=language)
    order.room_place = admitted.place if admitted else None
    # The order, its items and the event stay loaded past the commit: the caller
    # shows them, and they are exactly what was committed.
    try:
        with write_transaction(expire_on_commit=False):
            # Before the order is written: it takes this buyer's lock, so two posts from one buyer
            # are decided in turn (nobody else waits for it), and sees every hold committed before.
            hoarding.locked_check(db.session, event, email, client_address, at)
            db.session.add(order)
            transition(order, OrderStatus.RESERVED, reason="buyer reserved", actor=f"buyer:{email}")
            db.session.flush()
            # The insert's foreign key check waited for any change of the event in flight and holds
            # off later ones until commit: its currency, read now, is the one the locked prices are in.
            order.currency = db.session.scalar(select(Event.currency).where(Event.id == event.id))
            recheck = capacity.locked_recheck(db.session, event.id, wanted, counted=True, at=at)
            if recheck.refused:
                raise recheck.refused
            for item, tt in zip(order.items, recheck.locked, strict=True):  # both in ticket type id order
                item.unit_price = tt.price  # a price edited meanwhile: what was locked counts
    except (SoldOut, AllReserved):
        # The shared figures let this one through: refresh them, so the next
        # buyers are refused without a lock (the fast path kept an outdated entry).
        availability.for_display(event.id, at=at)
        raise
    except IntegrityError as error:
        if admitted and ROOM_PLACE in str(error.orig):
            raise AdmissionRefused(ADMISSION_USED) from None
        if getattr(error.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION:  # deleted while this was placed
            raise SalesClosed(N_("That ticket type is no longer on sale; choose again."), field="items") from None
        raise
    if admitted:
        waiting_room.note_used(event.id, admitted.place, at)
    expiry_timer.schedule_expiry(order)
    return order


def _validate(event: Event, quantities: Mapping[int, int], at: datetime) -> dict[int, int]:
    """{ticket type id: quantity} of what is wanted, or the first reason to refuse it."""
    types = {tt.id: tt for tt in event.ticket_types}
    wanted: dict[int, int] = {}
    for tt_id, qty in quantities.items():
        tt = types.get(tt_id)
        if tt is None:
            raise InvalidRequest(N_("That ticket type is not part of this event."), field="items")
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
            raise InvalidRequest(N_("Choose a whole number of %(name)s tickets."), field="items", name=tt.name)
        if qty > tt.per_order_limit:
            raise InvalidRequest(N_("At most %(limit)s %(name)s tickets per order."), field="items",
                                 limit=tt.per_order_limit, name=tt.name)
        if qty == 0:
            continue
        if not tt.on_sale(at):
            raise SalesClosed(N_("Sales for %(name)s are closed."), field="items", name=tt.name)
        wanted[tt_id] = qty
    if not wanted:
        raise InvalidRequest(N_("Choose at least one ticket."), field="items")
    return wanted


def release(order: Order, *, actor: str) -> Order:
    """The holder (or organizer) gives the tickets back: the one release rule.

    A live hold becomes ``cancelled`` (again: no change), and its checkout
    session is promised to be closed at the provider, so it can no longer be
    paid. A hold that already lapsed is expired, not released: refused with
    HoldExpired, nothing changed (the expiry job or sweep writes ``expired``).
    Paid or refunded: refused.
    """
    order_id = order.id
    with write_transaction():
        order = locks.order(db.session, order_id)
        if lapsed_at(order, clock_now()):
            raise HoldExpired(N_("This hold has already expired; there is nothing to release."))
        if transition(order, OrderStatus.CANCELLED, reason="hold released", actor=actor) and order.stripe_session_id:
            promise(order, ObligationKind.EXPIRE_SESSION)
    return order

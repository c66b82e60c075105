"""The waiting list: joining and leaving a ticket type's line, and offering the
tickets that come back to it, in line order, within seconds.

An offer is a hold placed for the head of the line under the ticket type's
lock and through the same locked recheck as reserving (``serve``). What comes
back is noted by the state machine and the catalog (``domain.changes``); after
the commit a job offers it to the line. Redis only makes that prompt: the line
itself (entries waiting while tickets are free) is the record of the work, and
the sweep serves every line, so a lost job delays an offer, never drops it.

While the event's waiting room guards the sale, a place joins the line deferred: the tickets left are
the room's people's first, so it is not demand and is promised nothing until the room closes sold
out (``waitlist_deferred``).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import capacity, locks, rules, waiting_room, waitlist
from ..domain.changes import take_freed_ticket_types
from ..domain.clock import now
from ..domain.errors import N_, Conflict, DomainError, NotFound
from ..domain.models import ObligationKind, Order, OrderStatus, TicketType, WaitlistEntry, WaitlistStatus
from ..domain.obligations import promise_about_entry
from ..domain.state_machine import transition
from ..infra import transactions
from ..infra.db import db
from ..infra.transactions import write_transaction
from ..readmodels import availability, lookups
from . import expiry_timer, reserving
from .waitlist_deferred import activate_closed_rooms, prompt

log = logging.getLogger(__name__)
ACTOR = "system:waiting-list"
# A place that is in line or will be: one per address and ticket type.
_PLACED = (WaitlistStatus.WAITING, WaitlistStatus.DEFERRED)


class AlreadyWaiting(Conflict):
    code = "already_waiting"


def join(slug: str, ticket_type_id: int, quantity: int, email: str, *, client_address: str | None = None,
         language: str = "en", at: datetime | None = None) -> WaitlistEntry:
    """Put ``email`` in the line of a ticket type that shows no (or too few) tickets available; while
    the event's waiting room guards the sale, deferred (whatever is available: it is the room's)."""
    at = at or now()
    event = lookups.published_event(slug)
    ticket_type = next((tt for tt in event.ticket_types if tt.id == ticket_type_id), None)
    if ticket_type is None:
        raise NotFound(N_("That ticket type is not part of this event."), field="ticket_type_id")
    email = rules.normalize_email(rules.email_address(email))  # lower-cased: one place per address, whatever its case
    figure = availability.figures(event.id, at=at, ticket_type_ids=[ticket_type_id])[ticket_type_id]
    deferred = waiting_room.guarding(event.waiting_room, event.ticket_types, at)
    if refused := waitlist.join_refusal(ticket_type, figure, quantity, at, deferred=deferred):
        raise refused
    if deferred and _placed(event.id, ticket_type_id, email):  # the unique index covers only those in line
        raise _already_waiting(email, ticket_type)
    entry = WaitlistEntry(event_id=event.id, ticket_type_id=ticket_type_id, email=email, quantity=quantity,
                          language=language,
                          client_address=client_address[:reserving.MAX_CLIENT_ADDRESS] if client_address else None,
                          status=WaitlistStatus.DEFERRED if deferred else WaitlistStatus.WAITING,
                          created_at=at, updated_at=at)
    try:
        with write_transaction(expire_on_commit=False):
            locks.line_joining(db.session, ticket_type_id)  # before its id is taken: see there
            db.session.add(entry)
            db.session.flush()
            promise_about_entry(db.session, entry, ObligationKind.EMAIL_WAITLIST_JOINED)
    except IntegrityError:
        raise _already_waiting(email, ticket_type) from None
    if deferred:
        activate_closed_rooms(event.id)  # if the room closed as this was asked for, it joins (or ends) now
    else:
        prompt([ticket_type_id])  # tickets may be free already, promised to a head that wants more
    return entry


def leave(token: str) -> WaitlistEntry:
    """The buyer leaves the line, or gives up a deferred place (again: no change). An entry already
    offered has a hold instead."""
    with write_transaction(expire_on_commit=False):
        entry = locks.waitlist_entry_by_token(db.session, token)
        if entry is None:
            raise NotFound(N_("There is no such place on a waiting list."))
        if entry.status == WaitlistStatus.OFFERED:
            raise Conflict(N_("You already have an offer: pay for it, or release it on its page."))
        if entry.status in _PLACED:
            entry.status, entry.updated_at = WaitlistStatus.LEFT, now()
    prompt([entry.ticket_type_id])  # the next in line may fit now
    return entry


def set_state(ticket_type: TicketType, state: str) -> None:
    """The organizer opens, pauses or closes a ticket type's line. Closing ends every place
    in it, deferred ones too (each told by email), so what was promised to it goes back to the public."""
    if state not in waitlist.STATES:
        raise DomainError(N_("A waiting list is %(states)s."), field="state", states=", ".join(waitlist.STATES))
    with write_transaction():
        [locked] = locks.ticket_types(db.session, [ticket_type.id])
        locked.waitlist = state
        if state == waitlist.CLOSED:
            for entry in [*locks.waitlist_line(db.session, locked.id), *locks.deferred_places(db.session, [locked.id])]:
                entry.status, entry.updated_at = WaitlistStatus.CLOSED, now()
                promise_about_entry(db.session, entry, ObligationKind.EMAIL_WAITLIST_CLOSED)
    prompt([ticket_type.id])


def serve(ticket_type_id: int) -> list[Order]:
    """Offer the free tickets of a ticket type to its line, in order; the offers made.

    One short transaction under the ticket type's lock: read the figures and the
    line, place one hold per entry served (the state machine promises its email),
    then the locked recheck that every reservation passes, with the offers counted."""
    with write_transaction(expire_on_commit=False):
        locked, figures, at = capacity.locked_figures(db.session, _event_id(ticket_type_id), [ticket_type_id])
        ticket_type, figure = locked[0], figures[ticket_type_id]
        if ticket_type.waitlist != waitlist.OPEN or not figure.waiting or not figure.free:
            return []
        event = ticket_type.event
        chosen = waitlist.offers(locks.waitlist_line(db.session, ticket_type_id), figure.free,
                                 partial=event.waitlist_partial_offers)
        offers = []
        for entry, quantity in chosen:
            entry.status, entry.updated_at = WaitlistStatus.OFFERED, at
            order = reserving.new_hold(event, entry.email, {ticket_type_id: quantity}, at,
                                       minutes=event.offer_minutes, client_address=entry.client_address,
                                       language=entry.language)
            order.waitlist_entry_id = entry.id
            db.session.add(order)
            partly = f", {quantity} of the {entry.quantity} asked for" if quantity < entry.quantity else ""
            transition(order, OrderStatus.RESERVED, reason=f"waiting list offer{partly}", actor=ACTOR)
            offers.append(order)
        if offers:
            db.session.flush()
            recheck = capacity.locked_recheck(db.session, event.id, {ticket_type_id: sum(o.quantity for o in offers)},
                                              counted=True, at=at, from_line=True)
            if recheck.refused:  # cannot happen unless the rule above is broken: nothing is offered then
                raise recheck.refused
    for order in offers:
        expiry_timer.schedule_expiry(order)
        log.info("offered %d x ticket type %d to waiting-list entry %d (order %d)", order.quantity,
                 ticket_type_id, order.waitlist_entry_id, order.id)
    return offers


def serve_all() -> int:
    """Serve every line that has people waiting (the sweep: nothing promised is forgotten), once
    the places deferred by waiting rooms that have closed joined theirs."""
    activate_closed_rooms()
    waiting = db.session.scalars(select(WaitlistEntry.ticket_type_id).distinct()
                                 .where(WaitlistEntry.status == WaitlistStatus.WAITING)).all()
    db.session.rollback()
    return sum(len(serve(tt_id)) for tt_id in waiting)


# --- helpers ---------------------------------------------------------------------

def _event_id(ticket_type_id: int) -> int:
    return db.session.scalar(select(TicketType.event_id).where(TicketType.id == ticket_type_id))


def _placed(event_id: int, ticket_type_id: int, email: str) -> bool:
    return bool(db.session.scalar(select(exists().where(
        WaitlistEntry.event_id == event_id, WaitlistEntry.ticket_type_id == ticket_type_id,
        WaitlistEntry.email == email, WaitlistEntry.status.in_(_PLACED)))))


def _already_waiting(email: str, ticket_type: TicketType) -> AlreadyWaiting:
    return AlreadyWaiting(N_("%(email)s is already on the waiting list for %(name)s; the link to your "
                             "place is in the email we sent when you joined."), field="email",
                          email=email, name=ticket_type.name)


def _after_commit(session: Session) -> None:
    if freed := take_freed_ticket_types(session):
        prompt(freed)


def init_app() -> None:
    transactions.after_commit(_after_commit, on_rollback=take_freed_ticket_types)


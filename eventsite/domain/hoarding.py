"""Limits against hoarding (issue 13): what one buyer may hold of an event at once.

- One live hold per buyer (email, trimmed and lower-cased) and event, so one buyer
  holds at most the per-order limit of each ticket type.
- At most ``event.max_holds_per_client`` live holds placed from one client address
  (0: no cap), so one client cannot hold a whole event under many addresses.
- A buyer who released a hold waits ``event.release_cooldown_seconds`` before that
  email or that address reserves the event again: releasing and re-holding at once
  would keep tickets off sale forever.

``locked_check`` runs inside the reserving transaction before the order is written.
It first takes a lock per buyer (email, address), so two concurrent posts from one
buyer are decided one after the other and the second sees the first's hold; buyers
who share nothing never wait for each other.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .errors import N_, AlreadyReserved, DomainError, ReleaseCooldown, TooManyHolds
from .holds import hold_ends_at, holds_clause
from .models import Event, Order, OrderEvent, OrderStatus
from .rules import normalize_email

# Releases whose actor starts so were made by the holder (the shop's page or the API), not an organizer.
BUYER_ACTOR_PREFIX = "buyer:"
# The API's longer (English) answer starts with it; the refusal itself is the whole sentence below.
ALREADY_RESERVED = "You already have tickets reserved for this event"


def locked_check(session: Session, event: Event, email: str, client_address: str | None, at: datetime) -> None:
    """Raise the first limit this reservation would break; call inside the write transaction.
    Each query reads at most what the decision needs (one hold of this email, at most the cap of
    this client's), so a rush from behind one address costs no more than one from many."""
    _lock_buyer(session, event.id, email, client_address)
    live = (Order.event_id == event.id, holds_clause(at))
    mine = session.scalar(select(Order.token).where(*live, _same_email(email)).limit(1))
    from_client: Sequence[Order] = ()
    if event.max_holds_per_client and client_address:
        from_client = session.scalars(select(Order).where(*live, Order.client_address == client_address)
                                      .limit(event.max_holds_per_client)).all()
    last_release = None
    if event.release_cooldown_seconds:
        since = at - timedelta(seconds=event.release_cooldown_seconds)
        last_release = session.scalar(
            select(func.max(OrderEvent.at)).join(Order, Order.id == OrderEvent.order_id).where(
                # updated_at >= the release instant: the partial index finds the event's recent releases.
                Order.event_id == event.id, Order.status == OrderStatus.CANCELLED, Order.updated_at > since,
                _same_buyer(email, client_address), OrderEvent.to_status == OrderStatus.CANCELLED.value,
                OrderEvent.at > since, OrderEvent.actor.startswith(BUYER_ACTOR_PREFIX, autoescape=True)))
    refused = refusal(event, mine, from_client, last_release, at)
    if refused:
        raise refused


def refusal(event: Event, mine: str | None, from_client: Sequence[Order], last_release: datetime | None,
            at: datetime) -> DomainError | None:
    """The rule itself, on what ``locked_check`` read: ``mine`` the token of this email's live
    hold of the event, ``from_client`` live holds placed from this address (up to the cap),
    ``last_release`` the latest release by this email or address within the cool-down."""
    if mine:
        return AlreadyReserved(N_("You already have tickets reserved for this event."), token=mine, field="email")
    cap = event.max_holds_per_client
    if cap and len(from_client) >= cap:
        return TooManyHolds(N_("Too many reservations from your connection for this event; "
                               "pay for or release one first."), retry_at=min(map(hold_ends_at, from_client)))
    if last_release is not None and event.release_cooldown_seconds:
        retry_at = last_release + timedelta(seconds=event.release_cooldown_seconds)
        if retry_at > at:
            seconds = math.ceil((retry_at - at).total_seconds())
            message = (N_("You released tickets a moment ago; you can reserve again in %(seconds)s second.")
                       if seconds == 1 else
                       N_("You released tickets a moment ago; you can reserve again in %(seconds)s seconds."))
            return ReleaseCooldown(message, retry_at=retry_at, seconds=seconds)
    return None


def _same_email(email: str):
    return func.lower(func.trim(Order.email)) == normalize_email(email)


def _same_buyer(email: str, client_address: str | None):
    """SQL: placed with this email (as normalized) or from this client address."""
    same_email = _same_email(email)
    return or_(same_email, Order.client_address == client_address) if client_address else same_email


def _lock_buyer(session: Session, event_id: int, email: str, client_address: str | None) -> None:
    """PostgreSQL: transaction-scoped advisory locks on (event, email) and (event, address), taken
    in key order (no deadlock between two buyers sharing one of them) and bounded by the
    transaction's lock_timeout (busy, try again). SQLite: writers are serialized already."""
    if session.connection().dialect.name != "postgresql":
        return
    names = [f"email:{normalize_email(email)}"] + ([f"client:{client_address}"] if client_address else [])
    for key in sorted(_lock_key(event_id, name) for name in names):
        session.execute(select(func.pg_advisory_xact_lock(key)))


def _lock_key(event_id: int, name: str) -> int:
    """A stable 64-bit key (Python's hash() differs between processes)."""
    digest = hashlib.sha256(f"eventsite-hold:{event_id}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)

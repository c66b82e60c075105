"""A short memory of each event's availability, shared through Redis, for
display paths only: the polled fragment, the API's availability and the
reserve fast path's refusal. The locked re-checks in ``inventory.reserve``
and ``inventory.confirm_payment`` always read the database.

An entry is computed at instant t0 and answers for t0 <= at < valid_until,
where valid_until is at most t0 + AVAILABILITY_CACHE_SECONDS and never past
the earliest expiry of a live hold, so a lapsed hold stops counting at its
exact instant; the injectable clock, not Redis's own expiry, decides.

Every committed transaction that moves an order of an event, or edits the
event or its ticket types, bumps that event's generation after the commit.
An entry remembers the generation read before it was computed and is ignored
once that has moved on, so a reader racing a commit cannot store figures
that outlive it. Redis down: everything is computed from the database, with
a warning at most once a minute.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import redis
from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .models import Event, TicketType

log = logging.getLogger(__name__)

PREFIX = "eventsite:availability:"
_CHANGED = "availability_cache_changed_events"  # session.info: event ids changed in this transaction
_WARN_EVERY_SECONDS = 60.0
_last_warning = float("-inf")


def _redis() -> redis.Redis:
    from .jobs import connection  # jobs imports inventory, which imports the state machine, which imports us

    return connection()


def _generation_key(event_id: int) -> str:
    return f"{PREFIX}generation:{event_id}"  # the Lua lookup below builds the same name


def _warn(error: Exception) -> None:
    global _last_warning
    if time.monotonic() - _last_warning >= _WARN_EVERY_SECONDS:
        _last_warning = time.monotonic()
        log.warning("Redis unavailable (%s); availability is computed from the database", error)


def lifetime_seconds() -> float:
    return current_app.config["AVAILABILITY_CACHE_SECONDS"]


def _store(key: str, entry: dict) -> None:
    # Redis expiry only collects garbage; validity is decided against the clock.
    try:
        _redis().set(key, json.dumps(entry), px=int(lifetime_seconds() * 1000) + 1000)
    except redis.RedisError as error:
        _warn(error)


def _in_time(entry: dict, at: datetime) -> bool:
    return datetime.fromisoformat(entry["t0"]) <= at < datetime.fromisoformat(entry["valid_until"])


def _valid(entry: dict, generation: int, at: datetime) -> bool:
    return entry["generation"] == generation and _in_time(entry, at)


def _entry(generation: int, at: datetime, valid_until: datetime, payload: Any) -> dict:
    return {"generation": generation, "t0": at.isoformat(), "valid_until": valid_until.isoformat(),
            "payload": payload}


def cached(kind: str, event_id: int, at: datetime, compute: Callable[[], tuple[Any, datetime]],
           pointless_if: Callable[[Any], bool] | None = None) -> Any:
    """The ``kind`` entry of an event valid at ``at``, else ``compute()`` (which
    returns a JSON-able payload and the instant it stops being true), stored.

    ``pointless_if(payload)`` lets a caller skip computing: given an entry that
    a later commit outdated, it says whether fresh figures could not change the
    caller's decision anyway; then None is returned.
    """
    key = f"{PREFIX}{kind}:{event_id}"
    try:
        generation, raw = _redis().mget(_generation_key(event_id), key)
    except redis.RedisError as error:
        _warn(error)
        return compute()[0]
    generation = int(generation or 0)
    if raw is not None and _in_time(entry := json.loads(raw), at):
        if entry["generation"] == generation:
            return entry["payload"]
        if pointless_if is not None and pointless_if(entry["payload"]):
            return None
    payload, valid_until = compute()
    if valid_until > at:
        _store(key, _entry(generation, at, valid_until, payload))
    return payload


# --- entries found by a public name (the fragment, by slug) ------------------

def generation(event_id: int) -> int | None:
    """The event's generation now (read it before computing what you will store)."""
    try:
        return int(_redis().get(_generation_key(event_id)) or 0)
    except redis.RedisError as error:
        _warn(error)
        return None


# One round trip: the named entry and the generation of the event it names.
_NAMED_LOOKUP = """
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
return {raw, redis.call('GET', ARGV[1] .. cjson.decode(raw)['event_id'])}
"""


def lookup_named(kind: str, name: str, at: datetime) -> tuple[int, Any] | None:
    """(event id, payload) of the ``kind`` entry stored under ``name``, if still valid."""
    try:
        connection = _redis()
        found = connection.register_script(_NAMED_LOOKUP)(keys=[f"{PREFIX}{kind}:{name}"],
                                                           args=[f"{PREFIX}generation:"])
    except redis.RedisError as error:
        _warn(error)
        return None
    if found is None:
        return None
    entry = json.loads(found[0])
    current = int(found[1] or 0)
    return (entry["event_id"], entry["payload"]) if _valid(entry, current, at) else None


def store_named(kind: str, name: str, event_id: int, generation_before: int | None, at: datetime,
                valid_until: datetime, payload: Any) -> None:
    if generation_before is not None and valid_until > at:
        _store(f"{PREFIX}{kind}:{name}", {**_entry(generation_before, at, valid_until, payload), "event_id": event_id})


# --- invalidation: after commit, once per transaction -------------------------

def changed(session: Session, event_id: int) -> None:
    """Record that this transaction changes what the event's availability shows."""
    session.info.setdefault(_CHANGED, set()).add(event_id)


@sa_event.listens_for(Session, "after_flush")
def _catalog_edits(session: Session, _context) -> None:
    """Ticket types and events edited through the ORM (the dashboard)."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, TicketType) and obj.event_id is not None:
            changed(session, obj.event_id)
        elif isinstance(obj, Event) and obj.id is not None:
            changed(session, obj.id)


@sa_event.listens_for(Session, "after_commit")
def _invalidate(session: Session) -> None:
    event_ids = session.info.pop(_CHANGED, None)
    if not event_ids:
        return
    try:
        pipeline = _redis().pipeline(transaction=False)
        for event_id in sorted(event_ids):
            pipeline.incr(_generation_key(event_id))
        pipeline.execute()
    except redis.RedisError as error:
        _warn(error)


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def clear() -> None:
    """Drop every entry and generation (tests: ids restart after each test)."""
    connection = _redis()
    keys = list(connection.scan_iter(match=f"{PREFIX}*", count=1000))
    if keys:
        connection.delete(*keys)

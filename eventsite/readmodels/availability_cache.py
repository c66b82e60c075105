"""A short memory of each event's availability, shared through Redis, for
display paths only: the polled fragment, the API's availability and the
reserve fast path's refusal. The locked recheck (``domain.capacity``)
always reads the database.

An entry is computed at instant t0 and answers for t0 <= at < valid_until,
where valid_until is at most t0 + AVAILABILITY_CACHE_SECONDS and never past
the earliest expiry of a live hold, so a lapsed hold stops counting at its
exact instant; the injectable clock, not Redis's own expiry, decides.

Every committed transaction that moves an order of an event, or edits the
event or its ticket types, bumps that event's generation after the commit
(the domain notes the change, the transaction layer calls ``_invalidate``).
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

from flask import current_app
from sqlalchemy.orm import Session

from ..domain.changes import take_changed_events
from ..infra import transactions
from ..infra.redis import RedisError, connection

log = logging.getLogger(__name__)

PREFIX = "eventsite:availability:"
_WARN_EVERY_SECONDS = 60.0
_last_warning = float("-inf")


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
        connection().set(key, json.dumps(entry), px=int(lifetime_seconds() * 1000) + 1000)
    except RedisError as error:
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
        generation, raw = connection().mget(_generation_key(event_id), key)
    except RedisError as error:
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
        return int(connection().get(_generation_key(event_id)) or 0)
    except RedisError as error:
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
        found = connection().register_script(_NAMED_LOOKUP)(keys=[f"{PREFIX}{kind}:{name}"],
                                                           args=[f"{PREFIX}generation:"])
    except RedisError as error:
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


# --- buyers turned away ("all reserved"), which holders' renewals must not outlast ---

def _turned_away_key(ticket_type_id: int) -> str:
    return f"{PREFIX}turned_away:{ticket_type_id}"


def note_turned_away(ticket_type_id: int, at: datetime, remember_seconds: float) -> None:
    """A buyer was refused ``ticket_type_id`` because all of it is reserved, at ``at``."""
    try:
        connection().set(_turned_away_key(ticket_type_id), at.isoformat(), ex=int(remember_seconds) + 60)
    except RedisError as error:
        _warn(error)


def turned_away_since(ticket_type_ids, since: datetime) -> bool:
    """Was a buyer refused one of these as all reserved at or after ``since`` (the clock decides,
    Redis's expiry only collects garbage)? Redis down: not known, so no."""
    try:
        seen = connection().mget([_turned_away_key(tt_id) for tt_id in ticket_type_ids])
    except RedisError as error:
        _warn(error)
        return False
    return any(value and datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value) >= since
               for value in seen)


# --- invalidation: after commit, once per transaction -------------------------

def _invalidate(session: Session) -> None:
    """Bump the generation of every event the committed transaction changed."""
    event_ids = take_changed_events(session)
    if not event_ids:
        return
    try:
        pipeline = connection().pipeline(transaction=False)
        for event_id in sorted(event_ids):
            pipeline.incr(_generation_key(event_id))
        pipeline.execute()
    except RedisError as error:
        _warn(error)


def _forget(session: Session) -> None:
    take_changed_events(session)


def init_app() -> None:
    """Have the transaction layer tell this cache what each commit changed."""
    transactions.after_commit(_invalidate, on_rollback=_forget)


def clear() -> None:
    """Drop every entry and generation (tests: ids restart after each test)."""
    redis = connection()
    keys = list(redis.scan_iter(match=f"{PREFIX}*", count=1000))
    if keys:
        redis.delete(*keys)

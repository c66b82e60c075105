"""The waiting rooms' queues in Redis, shared by every web process: each operation that must
not interleave with another (joining across the draw's instant, admitting) is one Lua script,
so any number of web servers serve one room. Redis errors reach the caller (the room pauses).

Keys of an event's room, under ``eventsite:room:<event id>:``:
  counter      places given so far (place numbers are 1, 2, ... in arrival order)
  cut          K, the places that joined before the on-sale instant (set once, at the first
               join or tick at or after it)
  drawn        set once the first K are in ``queue`` in the drawn order
  queue        ZSET place -> queue index (0-based): the draw's rank for 1..K, place - 1 after
  places       HASH place -> joined at (ms);  emails: HASH email -> place
  cursor       the next queue index to consider for admission
  admitted     HASH place -> admitted at (ms); log: ZSET place -> admitted at (the pace)
  outstanding  ZSET place -> admission valid until (ms), while it has not placed a hold
  used         HASH place -> hold placed at (ms);  left: SET of places that left
  state        the room's settings, as JSON (``publish``);  stock: the tick's last stock figures, as JSON
  tick         the clock (ms) of the last admission tick
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .redis import connection

PREFIX = "eventsite:room:"
_NAMES = ("counter", "cut", "drawn", "queue", "places", "emails", "cursor", "admitted", "log", "outstanding",
          "used", "left", "state", "stock", "tick")


def _keys(event_id: int) -> dict[str, str]:
    return {name: f"{PREFIX}{event_id}:{name}" for name in _NAMES}


def _slug_key(slug: str) -> str:
    return f"{PREFIX}slug:{slug}"


# The cutover: the first join or tick at or after the instant fixes K = places so far.
_CUTOVER_FN = """
local function cutover(counter, cut_key, now, on_sale)
  local cut = redis.call('GET', cut_key)
  if not cut and tonumber(now) >= tonumber(on_sale) then
    cut = redis.call('GET', counter) or '0'
    redis.call('SET', cut_key, cut)
  end
  return cut
end
"""
_CUTOVER = _CUTOVER_FN + "return cutover(KEYS[1], KEYS[2], ARGV[1], ARGV[2])"

# What a poll reads of a place: KEYS named by the caller's ``k`` table.
_READ_PLACE = """
local function read_place(k, place, now)
  local index = redis.call('ZSCORE', k.queue, place)
  local ahead = false
  if index then ahead = redis.call('ZCOUNT', k.queue, redis.call('GET', k.cursor) or 0, '(' .. index) end
  return {redis.call('HGET', k.places, place), index, ahead, redis.call('GET', k.cut),
          redis.call('HGET', k.admitted, place), redis.call('HGET', k.used, place),
          redis.call('SISMEMBER', k.left, place), redis.call('GET', k.counter),
          redis.call('ZCOUNT', k.log, tonumber(now) - 60000, '+inf'), redis.call('GET', k.state),
          redis.call('GET', k.stock)}
end
"""
# The keys a place's record reads, in the order every script below passes them first.
_RECORD_KEYS = ("places", "queue", "cursor", "cut", "admitted", "used", "left", "counter", "log", "state", "stock")
_RECORD_TABLE = "local k = {" + ", ".join(f"{name} = KEYS[{i}]" for i, name in enumerate(_RECORD_KEYS, 1)) + "}"

_JOIN = _CUTOVER_FN + _READ_PLACE + _RECORD_TABLE + """
-- KEYS: the record's, then emails; ARGV: now ms, on-sale ms, email ('' for none)
-- Returns {place, 1 if new, the place's record}.
if ARGV[3] ~= '' then
  local existing = redis.call('HGET', KEYS[12], ARGV[3])
  if existing then return {tonumber(existing), 0, read_place(k, existing, ARGV[1])} end
end
local cut = cutover(k.counter, k.cut, ARGV[1], ARGV[2])
local place = redis.call('INCR', k.counter)
redis.call('HSET', k.places, place, ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[12], ARGV[3], place) end
if cut then redis.call('ZADD', k.queue, place - 1, place) end
return {place, 1, read_place(k, place, ARGV[1])}
"""

_ADMIT = """
-- KEYS: queue, cursor, left, admitted, outstanding, log, drawn; ARGV: now ms, how many, valid until ms
if redis.call('EXISTS', KEYS[7]) == 0 then return {} end
local cursor = tonumber(redis.call('GET', KEYS[2]) or '0')
local wanted = tonumber(ARGV[2])
local admitted = {}
while #admitted < wanted do
  local batch = redis.call('ZRANGEBYSCORE', KEYS[1], cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, wanted)
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    local place = batch[i]
    cursor = tonumber(batch[i + 1]) + 1
    if redis.call('SISMEMBER', KEYS[3], place) == 0 then
      redis.call('HSET', KEYS[4], place, ARGV[1])
      redis.call('ZADD', KEYS[5], ARGV[3], place)
      redis.call('ZADD', KEYS[6], ARGV[1], place)
      admitted[#admitted + 1] = tonumber(place)
      if #admitted >= wanted then break end
    end
  end
end
redis.call('SET', KEYS[2], cursor)
return admitted
"""

# One tick per second of the (injectable) clock across all processes; a clock moved back (tests) ticks too.
_CLAIM_TICK = """
local function claim_tick(key, now, every)
  local last = redis.call('GET', key)
  if last and tonumber(now) >= tonumber(last) and tonumber(now) - tonumber(last) < tonumber(every) then
    return 0
  end
  redis.call('SET', key, now)
  return 1
end
"""
_TICK_DUE = _CLAIM_TICK + "return claim_tick(KEYS[1], ARGV[1], ARGV[2])"


def _script(source: str):
    return connection().register_script(source)  # EVALSHA, loading the script once per server


def publish(event_id: int, slug: str, settings: Mapping[str, object], stock: Mapping[str, object] | None) -> None:
    """The room's settings (and the tick's stock figures), as every process's polls read them (no SQL)."""
    keys = _keys(event_id)
    pipeline = connection().pipeline(transaction=False)
    pipeline.set(keys["state"], json.dumps(settings))
    if stock is not None:
        pipeline.set(keys["stock"], json.dumps(stock))
    pipeline.set(_slug_key(slug), event_id)
    pipeline.execute()


def _state(settings: bytes | None, stock: bytes | None) -> dict:
    """The published state: the settings with the stock figures; empty if never published."""
    return {**json.loads(settings), **json.loads(stock or "{}")} if settings else {}


# The key of the event's state is built here from the id the slug names (one round trip; this
# needs a single Redis server, not a cluster, which wants every key declared).
_STATE_BY_SLUG = """
local event_id = redis.call('GET', KEYS[1])
if not event_id then return false end
local prefix = ARGV[1] .. event_id
return {event_id, redis.call('GET', prefix .. ':state'), redis.call('GET', prefix .. ':stock')}
"""


def state_by_slug(slug: str) -> tuple[int, dict] | None:
    """(event id, published state) of the room of ``slug``, None if none was published."""
    found = _script(_STATE_BY_SLUG)(keys=[_slug_key(slug)], args=[PREFIX])
    state = _state(*found[1:]) if found else None
    return (int(found[0]), state) if state else None


def state(event_id: int) -> dict:
    keys = _keys(event_id)
    return _state(*connection().mget(keys["state"], keys["stock"]))


def cut(event_id: int) -> int | None:
    return _int(connection().get(_keys(event_id)["cut"]))


def join(event_id: int, now_ms: int, on_sale_ms: int, email: str | None) -> tuple[PlaceRecord, bool]:
    """(the place's record, whether it is new), in one round trip: an email already in the room
    gets its existing place's record, not a new place."""
    keys = _keys(event_id)
    _place, new, record = _script(_JOIN)(keys=[*(keys[n] for n in _RECORD_KEYS), keys["emails"]],
                                         args=[now_ms, on_sale_ms, email or ""])
    return _record(int(_place), [*record, 0]), bool(new)


def cutover(event_id: int, now_ms: int, on_sale_ms: int) -> int | None:
    keys = _keys(event_id)
    cut = _script(_CUTOVER)(keys=[keys["counter"], keys["cut"]], args=[now_ms, on_sale_ms])
    return int(cut) if cut is not None else None


def drawn(event_id: int) -> bool:
    return bool(connection().exists(_keys(event_id)["drawn"]))


# Places that left before the draw leave the queue too (a leave during the draw removes its own).
_DROP_LEFT = """
for _, place in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('ZREM', KEYS[1], place) end
"""


def store_draw(event_id: int, order: Iterable[int]) -> None:
    """Put the places drawn in ``order`` in the queue, once (a second draw writes the same)."""
    keys = _keys(event_id)
    ranks = {str(place): index for index, place in enumerate(order)}
    pipeline = connection().pipeline(transaction=True)
    if ranks:
        pipeline.zadd(keys["queue"], ranks)
    _script(_DROP_LEFT)(keys=[keys["queue"], keys["left"]], client=pipeline)
    pipeline.set(keys["drawn"], 1)
    pipeline.execute()


def tick_due(event_id: int, now_ms: int, every_ms: int = 1000) -> bool:
    return bool(_script(_TICK_DUE)(keys=[_keys(event_id)["tick"]], args=[now_ms, every_ms]))


def outstanding(event_id: int, now_ms: int) -> int:
    """Admissions still open (neither lapsed nor used)."""
    return int(connection().zcount(_keys(event_id)["outstanding"], f"({now_ms}", "+inf"))


def open_admissions(event_id: int, now_ms: int) -> list[int]:
    """The places whose admission is still open (neither lapsed nor marked used)."""
    return [int(place) for place in connection().zrangebyscore(_keys(event_id)["outstanding"], f"({now_ms}", "+inf")]


def admit(event_id: int, now_ms: int, how_many: int, valid_until_ms: int) -> list[int]:
    """Admit up to ``how_many`` places in queue order (skipping those that left), once drawn."""
    if how_many <= 0:
        return []
    keys = _keys(event_id)
    admitted = _script(_ADMIT)(
        keys=[keys[n] for n in ("queue", "cursor", "left", "admitted", "outstanding", "log", "drawn")],
        args=[now_ms, how_many, valid_until_ms])
    return [int(place) for place in admitted]


def mark_used(event_id: int, place: int, now_ms: int) -> None:
    keys = _keys(event_id)
    pipeline = connection().pipeline(transaction=True)
    pipeline.zrem(keys["outstanding"], place)
    pipeline.hset(keys["used"], place, now_ms)
    pipeline.execute()


# A place leaves until it is admitted (an admission, once given, is signed and counts until used or
# lapsed); it leaves the queue, so nobody counts it ahead of them and admission passes it by.
_LEAVE = """
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


def leave(event_id: int, place: int) -> bool:
    """Whether the place left (False: it was admitted already)."""
    keys = _keys(event_id)
    return bool(_script(_LEAVE)(keys=[keys["left"], keys["queue"], keys["admitted"]], args=[place]))


@dataclass(frozen=True)
class PlaceRecord:
    """One place as Redis has it, with the room's figures a poll shows."""

    place: int
    joined_ms: int | None  # None: no such place (Redis lost it, or a forged number)
    index: int | None  # queue index, None until drawn (or once it left)
    ahead: int | None  # places still in the queue before it, not admitted yet
    cut: int | None
    admitted_ms: int | None
    used_ms: int | None
    left: bool
    people: int  # places given so far
    admitted_last_minute: int
    state: dict  # empty: the room's state is not published (Redis lost it)
    tick_due: bool  # this poll should run the room's tick (once per second across processes)


_PLACE = _CLAIM_TICK + _READ_PLACE + _RECORD_TABLE + """
-- KEYS: the record's, then tick; ARGV: place, now ms, tick every ms ('' reads without claiming the tick)
local due = 0
if ARGV[3] ~= '' then due = claim_tick(KEYS[12], ARGV[2], ARGV[3]) end
local record = read_place(k, ARGV[1], ARGV[2])
record[#record + 1] = due
return record
"""


def place(event_id: int, place_number: int, now_ms: int, *, claim_tick: bool = False) -> PlaceRecord:
    """Everything a poll shows, in one round trip; with ``claim_tick``, also whether this poll
    runs the room's tick (claimed atomically: one per second of the clock across processes)."""
    keys = _keys(event_id)
    return _record(place_number, _script(_PLACE)(keys=[*(keys[n] for n in _RECORD_KEYS), keys["tick"]],
                                                 args=[place_number, now_ms, 1000 if claim_tick else ""]))


def _record(place_number: int, values: list) -> PlaceRecord:
    joined, index, ahead, cut, admitted, used, left, counter, pace, settings, stock, due = values
    return PlaceRecord(
        place_number, _int(joined), _int(index), _int(ahead), _int(cut), _int(admitted), _int(used),
        bool(left), _int(counter) or 0, int(pace), _state(settings, stock), bool(due))


@dataclass(frozen=True)
class RoomFigures:
    people: int  # places given so far
    waiting: int  # not admitted yet, not left
    admitted: int
    used: int  # admissions that placed a hold
    outstanding: int
    admitted_last_minute: int
    left: int


def figures(event_id: int, now_ms: int) -> RoomFigures:
    keys = _keys(event_id)
    pipeline = connection().pipeline(transaction=False)
    pipeline.get(keys["counter"])
    pipeline.hlen(keys["admitted"])
    pipeline.hlen(keys["used"])
    pipeline.zcount(keys["outstanding"], f"({now_ms}", "+inf")
    pipeline.zcount(keys["log"], now_ms - 60_000, "+inf")
    pipeline.scard(keys["left"])
    counter, admitted, used, open_, pace, left = pipeline.execute()
    people = _int(counter) or 0
    return RoomFigures(people, max(0, people - admitted - left), admitted, used, open_, pace, left)


def waits(event_id: int) -> tuple[dict[int, int], dict[int, int]]:
    """({place: joined ms}, {place: admitted ms}) for the report."""
    keys = _keys(event_id)
    pipeline = connection().pipeline(transaction=False)
    pipeline.hgetall(keys["places"])
    pipeline.hgetall(keys["admitted"])
    joined, admitted = pipeline.execute()
    return ({int(k): int(v) for k, v in joined.items()}, {int(k): int(v) for k, v in admitted.items()})


def drop(event_id: int) -> None:
    """Forget a room's queue (the organizer switched the room off before anyone joined, or tests)."""
    connection().delete(*_keys(event_id).values())


def clear() -> None:
    """Drop every room (tests: ids restart after each test)."""
    redis = connection()
    keys = list(redis.scan_iter(match=f"{PREFIX}*", count=1000))
    if keys:
        redis.delete(*keys)


def _int(value) -> int | None:
    return None if value is None else int(float(value))

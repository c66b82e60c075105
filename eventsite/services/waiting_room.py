"""The waiting room for an on-sale: joining, what a place sees, the draw, admitting places as the
stock allows, closing, and the admission check reserving makes.

The queue lives in Redis (``infra.room_store``), shared by every web process; the database stays
the only truth for tickets, so the room can hold people back but never oversell: an admission only
lets its holder *try* to reserve, through the same locked recheck as anyone. Polls read Redis only.
Once a second (of the injectable clock) one poll, in whichever process comes first, runs the tick:
it reads the stock from the database, draws at the on-sale instant, admits, and closes the room
when nothing is left to sell. Redis down: the room is paused and admits nobody; admissions already
given (signed, checked against the database) still place their hold.
"""
from __future__ import annotations

import hashlib
import json
import logging
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache

from flask import current_app
from sqlalchemy import update

from ..domain import rules, waiting_room
from ..domain.changes import note_event_changed
from ..domain.clock import now
from ..domain.errors import N_, Conflict, DomainError, InvalidRequest, NotFound, SalesClosed
from ..domain.models import Event, WaitingRoom
from ..domain.waiting_room import Admission, Schedule
from ..infra import room_store
from ..infra.db import db
from ..infra.redis import RedisError
from ..infra.transactions import write_transaction
from ..readmodels import availability, lookups
from . import waitlist_deferred

log = logging.getLogger(__name__)

# What a place is at an instant, as its page and the API show it.
BEFORE_DRAW, DRAWING, QUEUED, ADMITTED, USED, LAPSED, LEFT, CLOSED, ENDED, PAUSED, LOST = (
    "before_draw", "drawing", "queued", "admitted", "used", "lapsed", "left", "closed", "ended", "paused", "lost")
SETTINGS = ("enabled", "opens_minutes_before", "admission_minutes", "admissions_per_minute", "stock_multiple")
_RANGES = {"opens_minutes_before": (1, 1440, N_("Choose %(low)s to %(high)s minutes before the on-sale.")),
           "admission_minutes": (1, 60, N_("Choose %(low)s to %(high)s minutes an admission lasts.")),
           "admissions_per_minute": (1, 100_000, N_("Choose %(low)s to %(high)s admissions per minute.")),
           "stock_multiple": (1, 20, N_("Choose %(low)s to %(high)s times what can still be bought."))}


PAUSED_MESSAGE = N_("The waiting room is paused for a moment; try again shortly.")
NO_SUCH_PLACE = N_("There is no such place in this waiting room.")
NO_ROOM = N_("This event has no waiting room.")


class RoomPaused(DomainError):
    code = "room_paused"
    http_status = 503


class AlreadyInRoom(Conflict):
    code = "already_in_room"


def key() -> bytes:
    """The room's signing key, derived from the installation's secret."""
    return hashlib.sha256(b"waiting-room:" + current_app.config["SECRET_KEY"].encode()).digest()


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


# --- the organizer's settings -----------------------------------------------------

def configure(event: Event, values: dict, *, at: datetime | None = None) -> WaitingRoom:
    """Set up, change or switch off ``event``'s room. Each value is checked (InvalidRequest naming
    the field); the seed is drawn once and never changes, so its published hash stays true."""
    at = at or now()
    for name, (low, high, message) in _RANGES.items():
        value = values.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidRequest(message, field=name, low=low, high=high)
    room = event.waiting_room
    if values["enabled"] and waiting_room.schedule(WaitingRoom(enabled=True, opens_minutes_before=1),
                                                   event.ticket_types) is None:
        raise InvalidRequest(N_("Give a ticket type a sales start first: the room draws at the on-sale."),
                             field="enabled")
    if room is not None and room.closed_at is not None:
        raise Conflict(N_("This waiting room has closed; its report stays as it is."))
    with write_transaction(expire_on_commit=False):
        if room is None:
            seed = waiting_room.new_seed()
            room = WaitingRoom(event_id=event.id, seed=seed, seed_hash=waiting_room.seed_hash(seed), created_at=at)
            db.session.add(room)
            event.waiting_room = room
        for name in SETTINGS:
            setattr(room, name, values[name])
        room.updated_at = at
    _publish(event, at)
    if not room.enabled:  # the sale is direct again: places deferred by the room join their lines
        waitlist_deferred.activate_closed_rooms(event.id)
    return room


# --- joining and looking at a place -------------------------------------------------

@dataclass(frozen=True)
class Place:
    event_id: int
    slug: str
    title: str
    timezone: str
    number: int | None
    token: str | None
    phase: str
    on_sale: datetime | None
    seed_hash: str | None
    seed: str | None  # published once the draw's instant has passed
    ahead: int | None = None  # people ahead in line
    people: int = 0  # places in the room so far
    tickets_left: int = 0
    may_come_back: int = 0
    out_of_reach: bool = False
    wait: timedelta | None = None
    admission: str | None = None
    admission_until: datetime | None = None
    closed_reason: str | None = None
    ticket_types: tuple = ()  # (id, name, per-order limit): what the waiting list may be asked for


def join(slug: str, email: str | None = None, *, token: str | None = None, at: datetime | None = None) -> Place:
    """A place in ``slug``'s room: the one ``token`` names if it is genuine and still there (one per
    browser), else a new one at the back; an email that already has a place is refused (409, one per
    address: the place is the key to an admission, so it is never handed to whoever knows the email)."""
    at = at or now()
    event_id, state = _state(slug, at)
    if not state.get("enabled"):
        raise NotFound(NO_ROOM)
    if state.get("closed"):
        raise SalesClosed(_closed_message(state["closed"]))
    if at < _at(state["opens_ms"]):
        raise Conflict(N_("The waiting room has not opened yet; it opens %(minutes)s minutes before the on-sale."),
                       minutes=state["opens_minutes_before"])
    if token and waiting_room.read_place_token(key(), token, event_id):
        current = place(slug, token, at)
        if current.phase not in (LOST, LEFT, LAPSED):
            return current
    address = rules.normalize_email(rules.email_address(email)) if email else None
    try:
        record, new = room_store.join(event_id, _ms(at), state["on_sale_ms"], address)
    except RedisError as error:
        log.warning("waiting room paused: %s", error)
        raise RoomPaused(PAUSED_MESSAGE) from None
    if not new:  # the place is the key to an admission: never hand it to whoever merely knows the email
        raise AlreadyInRoom(N_("%(email)s already has a place in this waiting room, in the browser (or app) it "
                               "joined from."), field="email", email=address)
    token = waiting_room.place_token(key(), event_id, record.place)
    return _phase(_base(event_id, slug, record.place, token, record.state, at), record, record.state, at)


def place(slug: str, token: str, at: datetime | None = None) -> Place:
    """What the place ``token`` names is at ``at``: one Redis round trip, and the room's tick when this
    poll is the first of its second (then the tick reads the database)."""
    at = at or now()
    found = waiting_room.read_place_token(key(), token)
    if found is None:
        raise NotFound(NO_SUCH_PLACE)
    event_id, number = found
    try:
        record = room_store.place(event_id, number, _ms(at), claim_tick=True)
        if record.tick_due or not record.state:
            run_tick(event_id, at)  # also publishes the state Redis lost
            record = room_store.place(event_id, number, _ms(at))
    except RedisError as error:
        log.warning("waiting room paused: %s", error)
        event = lookups.published_event(slug)
        if event.id != event_id:
            raise NotFound(NO_SUCH_PLACE) from None
        return Place(**_base(event_id, slug, number, token, _state_of(event, at), at), phase=PAUSED)
    state = record.state
    if state.get("slug") != slug:
        raise NotFound(NO_SUCH_PLACE)
    return _phase(_base(event_id, slug, number, token, state, at), record, state, at)


def _base(event_id: int, slug: str, number: int, token: str, state: dict, at: datetime) -> dict:
    return {"event_id": event_id, "slug": slug, "title": state.get("title", ""),
            "timezone": state.get("timezone", "UTC"), "number": number, "token": token,
            "on_sale": _at(state["on_sale_ms"]) if state.get("on_sale_ms") else None,
            "seed_hash": state.get("seed_hash"), "seed": state.get("seed") if _past(state, at) else None,
            "tickets_left": state.get("left", 0), "may_come_back": state.get("may_come_back", 0),
            "ticket_types": tuple(tuple(tt) for tt in state.get("ticket_types", ()))}


def _phase(base: dict, record: room_store.PlaceRecord, state: dict, at: datetime) -> Place:
    people = {"people": record.people}
    if not state.get("enabled"):
        return Place(**base, phase=ENDED, **people)
    if state.get("closed"):
        return Place(**base, phase=CLOSED, closed_reason=state["closed"], **people)
    if record.joined_ms is None:
        return Place(**base, phase=LOST)
    if record.left:
        return Place(**base, phase=LEFT, **people)
    if record.used_ms is not None:
        return Place(**base, phase=USED, **people)
    if record.admitted_ms is not None:
        until = waiting_room.admission_until(_at(record.admitted_ms), state["admission_minutes"])
        if at >= until:
            return Place(**base, phase=LAPSED, **people)
        return Place(**base, phase=ADMITTED, admission_until=until,
                     admission=waiting_room.admission_token(key(), base["event_id"], base["number"], until), **people)
    if record.index is None:
        return Place(**base, phase=DRAWING if record.cut is not None else BEFORE_DRAW, **people)
    ahead = record.ahead or 0
    return Place(**base, phase=QUEUED, ahead=ahead,
                 out_of_reach=waiting_room.out_of_reach(ahead, state.get("left", 0), state.get("may_come_back", 0)),
                 wait=waiting_room.estimated_wait(ahead, record.admitted_last_minute, state["admissions_per_minute"]),
                 **people)


def leave(slug: str, token: str, at: datetime | None = None) -> Place:
    """Give up a place still waiting (again: no change). Once admitted, the admission is signed and
    counts until used or lapsed, so leaving is refused: reserve, or let it lapse."""
    current = place(slug, token, at)
    if current.phase == ADMITTED:
        raise Conflict(N_("You have been let in: reserve your tickets now, or let your turn pass."))
    if current.phase in (QUEUED, BEFORE_DRAW, DRAWING):
        try:
            room_store.leave(current.event_id, current.number)
        except RedisError:
            raise RoomPaused(PAUSED_MESSAGE) from None
    return place(slug, token, at)


def _past(state: dict, at: datetime) -> bool:
    return bool(state.get("on_sale_ms")) and _ms(at) >= state["on_sale_ms"]


def _closed_message(reason: str) -> str:
    if reason == "sold_out":
        return N_("Sold out: the waiting room has closed. Join the waiting list for tickets that come back.")
    return N_("Sales have ended: the waiting room has closed.")


# --- the room's state in Redis ------------------------------------------------------

def _state(slug: str, at: datetime) -> tuple[int, dict]:
    """(event id, published state) from Redis; read from the database and published when missing
    (or when Redis is unreachable: then joining pauses, at its own Redis call)."""
    try:
        found = room_store.state_by_slug(slug)
    except RedisError:
        found = None
    if found is not None:
        return found
    event = lookups.published_event(slug)
    return event.id, _publish(event, at)


def _publish(event: Event, at: datetime, stock: dict | None = None) -> dict:
    settings = _state_of(event, at)
    try:
        room_store.publish(event.id, event.slug, settings, stock)
    except RedisError as error:
        log.warning("waiting room state not published: %s", error)
    return {**settings, **(stock or {})}


def _state_of(event: Event, at: datetime) -> dict:
    """The room's settings as polls read them (the stock figures are the tick's)."""
    room = event.waiting_room
    when = waiting_room.schedule(room, event.ticket_types)
    state = {"enabled": when is not None, "slug": event.slug, "title": event.title, "timezone": event.timezone,
             "ticket_types": [[tt.id, tt.name, tt.per_order_limit] for tt in event.ticket_types]}
    if room is not None and when is not None:
        state.update(
            on_sale_ms=_ms(when.on_sale), opens_ms=_ms(when.opens_at), seed_hash=room.seed_hash,
            opens_minutes_before=room.opens_minutes_before, admission_minutes=room.admission_minutes,
            admissions_per_minute=room.admissions_per_minute, stock_multiple=room.stock_multiple,
            closed=room.closed_reason if room.closed_at else None)
        if when.drawn_at(at):
            state["seed"] = room.seed
    return state


# --- the tick: draw, admit, close -----------------------------------------------------

def tick(event_id: int, at: datetime | None = None) -> list[int]:
    """Once per second of the clock across every process: the places admitted now."""
    at = at or now()
    if not room_store.tick_due(event_id, _ms(at)):
        return []
    return run_tick(event_id, at)


def run_tick(event_id: int, at: datetime) -> list[int]:
    event = db.session.get(Event, event_id)
    room = event.waiting_room if event is not None else None
    when = waiting_room.schedule(room, event.ticket_types) if event is not None else None
    if when is None or room.closed_at is not None:
        if event is not None:
            _publish(event, at)
        return []
    stock = _stock(event, room, at)
    if reason := _closing_reason(stock):
        _close(event, room, reason, at)
        return []
    _publish(event, at, stock)
    if not when.drawn_at(at):
        return []
    _draw(event_id, room, when, at)
    _note_used(event_id, at)
    allowed = waiting_room.allowance(buyable=stock["buyable"], outstanding=room_store.outstanding(event_id, _ms(at)),
                                     stock_multiple=room.stock_multiple,
                                     admissions_per_minute=room.admissions_per_minute)
    until = waiting_room.admission_until(at, room.admission_minutes)
    return room_store.admit(event_id, _ms(at), allowed, _ms(until))


def _note_used(event_id: int, at: datetime) -> None:
    """Open admissions that did place their hold, though Redis was not told (it was down then):
    the database says so, and they stop counting, so the room does not slow down after an outage."""
    if places := room_store.open_admissions(event_id, _ms(at)):
        for place_number, placed_at in availability.room_places_used(event_id, places).items():
            room_store.mark_used(event_id, place_number, _ms(placed_at))


def _draw(event_id: int, room: WaitingRoom, when: Schedule, at: datetime) -> None:
    cut = room_store.cutover(event_id, _ms(at), _ms(when.on_sale))
    if cut is not None and not room_store.drawn(event_id):
        room_store.store_draw(event_id, _drawn(room.seed, cut))
        log.info("waiting room of event %s drew %s places", event_id, cut)


def _stock(event: Event, room: WaitingRoom, at: datetime) -> dict:
    """What can still be bought by those admitted, from the database (the tick's one read)."""
    figures = availability.figures(event.id, at=at)
    lapsing = availability.lapsing(event.id, at, at + timedelta(minutes=room.admission_minutes))
    selling = [tt for tt in event.ticket_types if tt.sales_end is None or tt.sales_end > at]
    left = sum(figures[tt.id].available for tt in selling)
    may_come_back = sum(max(0, figures[tt.id].held - figures[tt.id].waiting) for tt in selling)
    buyable = sum(waiting_room.buyable(figures[tt.id].available, lapsing.get(tt.id, 0), figures[tt.id].waiting)
                  for tt in selling)
    unsold = sum(max(0, figures[tt.id].capacity - figures[tt.id].sold) for tt in selling)
    return {"left": left, "may_come_back": may_come_back, "buyable": buyable, "unsold": unsold,
            "selling": len(selling)}


def _closing_reason(stock: dict) -> str | None:
    """Nothing left to sell through the room: every sales window ended, or every ticket sold."""
    if not stock["selling"]:
        return "sales_ended"
    if stock["unsold"] == 0:
        return "sold_out"
    return None


def _close(event: Event, room: WaitingRoom, reason: str, at: datetime) -> None:
    """Close once (a second closer changes nothing); keep the report; tell every place at once
    (their next poll reads the closed state)."""
    report = json.dumps(_waits(event.id))
    with write_transaction():
        note_event_changed(db.session, event.id)  # reserving stops asking for admissions
        db.session.execute(update(WaitingRoom).where(WaitingRoom.id == room.id, WaitingRoom.closed_at.is_(None))
                           .values(closed_at=at, closed_reason=reason, report=report, updated_at=at))
    db.session.refresh(room)
    waitlist_deferred.activate_deferred(event.id, room.closed_reason, at)  # the sweep again if this is lost
    _publish(event, at, {"left": 0, "may_come_back": 0, "buyable": 0})
    log.info("waiting room of event %s closed: %s", event.id, reason)


def _waits(event_id: int) -> dict:
    """Seconds each admitted place waited, from the on-sale (or its later arrival) to its admission."""
    try:
        joined, admitted = room_store.waits(event_id)
        state = room_store.state(event_id)
    except RedisError:
        return {}
    on_sale_ms = state.get("on_sale_ms", 0)
    waits = sorted((ms - max(joined.get(place, on_sale_ms), on_sale_ms)) / 1000 for place, ms in admitted.items())
    return {"places": len(joined), "admitted": len(admitted), "waits": _percentiles(waits)}


def _percentiles(waits: list[float]) -> dict:
    if not waits:
        return {"median": None, "p95": None}
    p95 = statistics.quantiles(waits, n=20, method="inclusive")[-1] if len(waits) > 1 else waits[0]
    return {"median": round(statistics.median(waits), 1), "p95": round(p95, 1)}


# --- reserving with an admission ------------------------------------------------------

def admission_for(event: Event, token: str | None, at: datetime) -> Admission | None:
    """None when no room stands in front of ``event`` at ``at``; otherwise the admission ``token``
    grants (AdmissionRequired / AdmissionRefused if none). Whether it was used is the database's
    to say: an order carries its place, one hold per place."""
    if not waiting_room.guarding(event.waiting_room, event.ticket_types, at):
        return None
    return waiting_room.read_admission(key(), token, event.id, at)


def note_used(order_event_id: int, place_number: int, at: datetime) -> None:
    """After the hold's commit: its admission no longer counts as open, so the next place is
    admitted sooner. Redis down: it stops counting when it lapses anyway."""
    try:
        room_store.mark_used(order_event_id, place_number, _ms(at))
    except RedisError as error:
        log.warning("admission of place %s not marked used: %s", place_number, error)


# --- the organizer's view ------------------------------------------------------------

@dataclass
class RoomReport:
    room: WaitingRoom
    schedule: Schedule | None
    figures: room_store.RoomFigures | None  # None: Redis unavailable
    sold: int
    holds_placed: int
    holds_lapsed: int
    holds_paid: int

    @cached_property
    def waits(self) -> dict:
        """Kept when the room closed; until then read from every place in Redis, so only when shown."""
        return json.loads(self.room.report) if self.room.report else _waits(self.room.event_id)


def report(event: Event, at: datetime | None = None) -> RoomReport | None:
    room = event.waiting_room
    if room is None:
        return None
    at = at or now()
    try:
        figures = room_store.figures(event.id, _ms(at))
    except RedisError:
        figures = None
    counts = availability.room_holds(event.id, at)
    return RoomReport(room, waiting_room.schedule(room, event.ticket_types), figures,
                      sum(tt.sold for tt in event.ticket_types), **counts)


def seed_for(event: Event, at: datetime) -> str | None:
    """The seed, once the draw's instant has passed (never before: it would reveal the order)."""
    when = waiting_room.schedule(event.waiting_room, event.ticket_types)
    return event.waiting_room.seed if when is not None and when.drawn_at(at) else None


def published_draw(slug: str, at: datetime | None = None) -> dict:
    """Everything needed to check the draw: the seed, its hash, the rule and the drawn order."""
    at = at or now()
    event = lookups.published_event(slug)
    room = event.waiting_room
    when = waiting_room.schedule(room, event.ticket_types)
    if when is None:
        raise NotFound(NO_ROOM)
    body = {"seed_hash": room.seed_hash, "on_sale": when.on_sale.isoformat(), "rule": RULE}
    if when.drawn_at(at):
        cut = _cut(event.id)
        body.update(seed=room.seed, drawn=cut, order=list(_drawn(room.seed, cut)) if cut is not None else None)
    return body


@lru_cache(maxsize=16)
def _drawn(seed: str, cut: int) -> tuple[int, ...]:
    """The drawn order never changes once drawn: computed once per process (20,000 HMACs), not per request."""
    return tuple(waiting_room.drawn_order(seed, range(1, cut + 1)))


def _cut(event_id: int) -> int | None:
    try:
        return room_store.cut(event_id)
    except RedisError:
        return None


RULE = ("Places 1..K (K = places joined before the on-sale) are ordered by HMAC-SHA256 with the seed's "
        "ASCII text as key and the place number in decimal as message, hex digests ascending; later "
        "places follow in number order. The seed hash is SHA-256 of the seed's ASCII text.")

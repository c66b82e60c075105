"""The waiting room against a simple model: people join (before and after the on-sale), the clock
moves, the room ticks, admitted buyers reserve (one or two tickets), release, let holds lapse and pay.

At every tick the places admitted must be exactly the model's: the next ones of the queue (the
published draw, then later arrivals, less those who left), as many as the stock allows: open
admissions within ``stock_multiple`` x what can be bought (counted here in SQL) and the ceiling.
After every step: the admitted places are a prefix of the queue (less those who left), Redis counts
the open admissions the model does, sold + held <= capacity in SQL, and each hold placed through the
room has a place of its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from room_support import ON_SALE, pay, queue_order, set_room, set_seed, stock
from sqlalchemy import text
from testenv import T0, truncate_all
from waitlist_support import assert_not_oversold

from eventsite.domain import waiting_room as rules
from eventsite.domain.clock import clock
from eventsite.domain.errors import AdmissionRefused, Conflict, SalesClosed, SoldOut
from eventsite.domain.models import Order
from eventsite.infra import room_store
from eventsite.infra.db import db
from eventsite.readmodels import availability_cache
from eventsite.services import expiry, reserving, waiting_room

SLUG = "roommodel"
CAPACITY = 3
HOLD = timedelta(minutes=2)
ROOM = {"admission_minutes": 1, "admissions_per_minute": 240, "stock_multiple": 2}  # 4 a second
SECOND = timedelta(seconds=1)

_ROOM_HOLDS = text("SELECT room_place, id, status FROM orders WHERE event_id = :event_id AND room_place IS NOT NULL")


@dataclass
class ModelPlace:
    number: int
    token: str
    email: str | None
    admitted_at: datetime | None = None
    admission: str | None = None
    left: bool = False
    used: bool = False

    def open_at(self, at: datetime) -> bool:
        """Counted as an open admission at ``at``: admitted, neither used nor left, not lapsed."""
        return (self.admitted_at is not None and not self.used and not self.left
                and at < rules.admission_until(self.admitted_at, ROOM["admission_minutes"]))


@dataclass
class ModelHold:
    id: int
    place: int
    expires_at: datetime
    status: str = "reserved"


class RoomModel(RuleBasedStateMachine):
    def __init__(self, app, make_event):
        super().__init__()
        self.ctx = app.app_context()
        self.ctx.push()
        truncate_all()
        availability_cache.clear()
        room_store.clear()
        clock.freeze(T0)
        self.event_id, [self.ga] = make_event({"name": "GA", "capacity": CAPACITY, "per_order_limit": 2,
                                               "sales_start": ON_SALE}, slug=SLUG, hold_minutes=HOLD.seconds // 60)
        set_room(self.event_id, **ROOM)
        self.places: dict[int, ModelPlace] = {}
        self.holds: list[ModelHold] = []
        self.last_tick: datetime | None = None
        self.early = 0  # places joined before the on-sale: they are drawn
        self.cut = False  # whether the room knows who is drawn
        self.closed = False
        self.buyers = 0

    def teardown(self):
        db.session.remove()
        self.ctx.pop()
        clock.unfreeze()

    # --- the model ----------------------------------------------------------------
    def _queue(self) -> list[int]:
        return queue_order(self.seed, self.early, len(self.places))

    def _tick(self) -> None:
        """Run the room's tick now, as the first poll of a second does, and check what it admits."""
        now = clock.now()
        due = self.last_tick is None or now < self.last_tick or now - self.last_tick >= SECOND
        free, lapsing, unsold = stock(self.event_id, now, ROOM["admission_minutes"])
        outstanding = sum(p.open_at(now) for p in self.places.values())
        admitted = waiting_room.tick(self.event_id)
        if due:
            self.last_tick = now
            self.closed = self.closed or unsold == 0  # everything sold: the room closes
        if not due or self.closed or now < ON_SALE:
            assert admitted == []
            return
        self.cut = True  # the tick draws
        allowed = max(0, min(ROOM["stock_multiple"] * max(0, free + lapsing) - outstanding,
                             rules.per_second(ROOM["admissions_per_minute"])))
        waiting = [n for n in self._queue() if self.places[n].admitted_at is None and not self.places[n].left]
        assert admitted == waiting[:allowed], (admitted, waiting, allowed, free, lapsing, outstanding)
        for number in admitted:
            place = self.places[number]
            view = waiting_room.place(SLUG, place.token)  # the buyer's poll, in the same second
            assert view.phase == waiting_room.ADMITTED
            assert view.admission_until == rules.admission_until(now, ROOM["admission_minutes"])
            place.admitted_at, place.admission = now, view.admission

    def _phase(self, place: ModelPlace) -> str:
        if self.closed:
            return waiting_room.CLOSED
        if place.left:
            return waiting_room.LEFT
        if place.used:
            return waiting_room.USED
        if place.admitted_at is not None:
            return waiting_room.ADMITTED if place.open_at(clock.now()) else waiting_room.LAPSED
        if self.last_tick is not None and self.last_tick >= ON_SALE:
            return waiting_room.QUEUED
        return waiting_room.DRAWING if self.cut else waiting_room.BEFORE_DRAW

    def _live(self) -> list[ModelHold]:
        return [h for h in self.holds if h.status == "reserved" and h.expires_at > clock.now()]

    def _admitted(self) -> list[ModelPlace]:
        return [p for p in self.places.values() if p.admission and not p.left]

    # --- rules ------------------------------------------------------------------------
    @initialize(seed=st.integers(0, 2**256 - 1), early=st.lists(st.booleans(), min_size=2, max_size=16))
    def arrive_early(self, seed, early):
        """People join while the room is open, before the on-sale (with an email or not)."""
        self.seed = f"{seed:064x}"  # drawn by hypothesis, so a failing run replays the same draw
        set_seed(self.event_id, self.seed)
        for with_email in early:
            self._join(f"p{len(self.places) + 1}@example.test" if with_email else None)
        clock.advance(ON_SALE - SECOND - clock.now())

    @rule(with_email=st.booleans(), again=st.booleans())
    def join(self, with_email, again):
        """Someone joins (most often after the on-sale); or someone in the room joins again with their email."""
        emails = [p.email for p in self.places.values() if p.email]
        if again and emails:
            self._join(emails[len(emails) // 2].upper(), again=True)
        else:
            self._join(f"p{len(self.places) + 1}@example.test" if with_email else None)

    def _join(self, email: str | None, again: bool = False) -> None:
        self._tick()
        try:
            place = waiting_room.join(SLUG, email)
        except SalesClosed:
            assert self.closed
            return
        except waiting_room.AlreadyInRoom:
            assert again and not self.closed
            return
        assert not again and not self.closed
        assert place.number == len(self.places) + 1
        self.places[place.number] = ModelPlace(place.number, place.token, email)
        if clock.now() < ON_SALE:
            self.early += 1
        else:
            self.cut = True  # the first arrival at or after the instant fixes who is drawn

    @rule(half_seconds=st.one_of(st.integers(1, 4), st.integers(1, 180)))
    def advance(self, half_seconds):
        """0.5 to 90 s, often just a second or two (admissions last a minute)."""
        clock.advance(half_seconds * SECOND / 2)

    @rule()
    def tick(self):
        self._tick()

    @precondition(lambda self: self._admitted())
    @rule(data=st.data(), quantity=st.integers(1, 2))
    def reserve(self, data, quantity):
        """An admitted buyer reserves with their admission: mostly an open one, else lapsed or used already."""
        admitted = self._admitted()
        place = data.draw(st.sampled_from([p for p in admitted if p.open_at(clock.now())] * 3 + admitted))
        now = clock.now()
        lapsed = now >= rules.admission_until(place.admitted_at, ROOM["admission_minutes"])
        enough = stock(self.event_id, now, ROOM["admission_minutes"])[0] >= quantity
        self.buyers += 1
        try:
            order = reserving.reserve(SLUG, {self.ga: quantity}, f"b{self.buyers}@example.test",
                                      admission=place.admission)
        except AdmissionRefused as refused:  # a used one may be told it is sold out, if it is
            assert not self.closed and (lapsed or place.used)
            assert ("has lapsed" if lapsed else "already placed a hold") in refused.message
            return
        except SoldOut:  # once the room closed, nobody needs an admission: it is simply sold out
            assert self.closed or not lapsed and not enough
            return
        assert not self.closed and not lapsed and enough and not place.used
        assert order.room_place == place.number
        place.used = True
        self.holds.append(ModelHold(order.id, place.number, order.expires_at))

    @precondition(lambda self: any(not p.left for p in self.places.values()))
    @rule(data=st.data())
    def leave(self, data):
        """Someone in the room leaves (or tries to, when their place is used, lapsed or closed)."""
        place = data.draw(st.sampled_from([p for p in self.places.values() if not p.left]))
        self._tick()
        before = self._phase(place)
        if before == waiting_room.ADMITTED:  # an admission counts until used or lapsed: no leaving
            with pytest.raises(Conflict, match="You have been let in"):
                waiting_room.leave(SLUG, place.token)
            assert waiting_room.place(SLUG, place.token).phase == before
            return
        after = waiting_room.leave(SLUG, place.token).phase
        if before in (waiting_room.QUEUED, waiting_room.BEFORE_DRAW):
            place.left = True
        assert after == self._phase(place), (before, after)

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def release(self, data):
        hold = data.draw(st.sampled_from(self._live()))
        reserving.release(db.session.get(Order, hold.id), actor="model")
        hold.status = "cancelled"

    @precondition(lambda self: self._live())
    @rule(data=st.data(), expire=st.booleans())
    def hold_lapses(self, data, expire):
        """A hold runs out (the clock reaches its expiry); the expiry job may or may not have run."""
        hold = data.draw(st.sampled_from(self._live()))
        clock.advance(hold.expires_at - clock.now())
        if expire:
            assert expiry.expire_if_lapsed(hold.id)
        hold.status = "lapsed"

    @precondition(lambda self: self._live())
    @rule(data=st.data())
    def pay(self, data):
        hold = data.draw(st.sampled_from(self._live()))
        pay(hold.id)
        hold.status = "confirmed"

    # --- invariants ---------------------------------------------------------------------
    @invariant()
    def the_room_matches_the_model(self):
        db.session.remove()  # each step is a request of its own
        now = clock.now()
        assert_not_oversold(self.event_id, now)
        rows = db.session.execute(_ROOM_HOLDS, {"event_id": self.event_id}).all()
        assert len({row.room_place for row in rows}) == len(rows)  # one hold per admission
        assert sorted(row.room_place for row in rows) == sorted(p.number for p in self.places.values() if p.used)
        joined, admitted = room_store.waits(self.event_id)
        assert set(admitted) == {n for n, p in self.places.items() if p.admitted_at is not None}
        assert set(joined) == set(self.places)
        # Admitted places are a prefix of the queue, those who left aside.
        in_line = [n for n in self._queue() if not (self.places[n].left and n not in admitted)]
        assert in_line[:len(admitted)] == [n for n in in_line if n in admitted]
        assert room_store.outstanding(self.event_id, int(now.timestamp() * 1000)) == sum(
            p.open_at(now) for p in self.places.values())
        db.session.remove()


def test_admissions_follow_the_queue_and_never_outrun_the_stock(app, make_event, rq_redis):
    run_state_machine_as_test(
        lambda: RoomModel(app, make_event),
        settings=settings(max_examples=30, stateful_step_count=50, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]))

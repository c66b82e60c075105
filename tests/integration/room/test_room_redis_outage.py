"""The waiting room while its Redis is stopped: a shop on a redis-server of the test's own (never
the machine's shared one), which is killed and comes back with its data. Meanwhile the room is
paused and admits nobody; admissions given before still place their hold, the database deciding,
and nothing is oversold. Back, the room goes on where it was."""
from __future__ import annotations

from datetime import timedelta

import pytest
from room_support import ON_SALE, kept_redis, queue_order, room_seed, set_room, shop_app
from waitlist_support import assert_not_oversold

from eventsite.domain.errors import AdmissionRefused, AdmissionRequired, SoldOut
from eventsite.domain.models import Order
from eventsite.infra import room_store
from eventsite.infra.db import db
from eventsite.services import reserving, waiting_room

MINUTE = timedelta(minutes=1)


def test_with_redis_stopped_the_room_pauses_and_admitted_buyers_still_reserve(app, make_event, frozen, tmp_path):
    event_id, [ga] = make_event({"name": "GA", "capacity": 3, "per_order_limit": 4, "sales_start": ON_SALE},
                                slug="onsale")
    with kept_redis(tmp_path) as redis, shop_app(app, redis.url) as shop, shop.app_context():
        set_room(event_id)  # stock multiple 1: as many open admissions as tickets
        places = {p.number: p for p in (waiting_room.join("onsale", f"e{n}@example.test") for n in range(5))}
        order = queue_order(room_seed(event_id), 5, 5)
        frozen.advance(timedelta(minutes=30))
        admissions = [waiting_room.place("onsale", places[n].token).admission for n in order[:3]]
        assert all(admissions) and waiting_room.place("onsale", places[order[3]].token).phase == waiting_room.QUEUED

        redis.stop()
        frozen.advance(MINUTE)
        with pytest.raises(waiting_room.RoomPaused, match="paused for a moment") as paused:
            waiting_room.join("onsale", "late@example.test")
        assert paused.value.http_status == 503
        assert {waiting_room.place("onsale", p.token).phase for p in places.values()} == {waiting_room.PAUSED}
        # The database decides: the first admitted takes two, the second cannot take two more, only one.
        first = reserving.reserve("onsale", {ga: 2}, "e-first@example.test", admission=admissions[0])
        with pytest.raises(SoldOut):
            reserving.reserve("onsale", {ga: 2}, "e-second@example.test", admission=admissions[1])
        second = reserving.reserve("onsale", {ga: 1}, "e-second@example.test", admission=admissions[1])
        assert (first.room_place, second.room_place) == (order[0], order[1])
        with pytest.raises(AdmissionRequired) as refused:
            reserving.reserve("onsale", {ga: 1}, "nobody@example.test")
        assert refused.value.http_status == 403
        assert_not_oversold(event_id, frozen.now())
        reserving.release(db.session.get(Order, first.id), actor="buyer")  # two come back, while Redis is away
        with pytest.raises(AdmissionRefused, match="already placed a hold"):  # one hold per admission still
            reserving.reserve("onsale", {ga: 1}, "again@example.test", admission=admissions[0])
        frozen.advance(MINUTE)
        assert waiting_room.place("onsale", places[order[3]].token).phase == waiting_room.PAUSED  # nobody admitted

        redis.start()  # back, with its data
        late = waiting_room.join("onsale", "late@example.test")
        assert (late.number, late.phase, late.ahead) == (6, waiting_room.QUEUED, 2)  # joining runs no tick
        late = waiting_room.place("onsale", late.token)
        # The first tick back learns from the database that two admissions placed their holds during the
        # outage: they stop counting, so with 2 tickets back and 1 admission still open, 1 more is let in.
        assert (late.number, late.phase, late.ahead) == (6, waiting_room.QUEUED, 1)
        assert waiting_room.place("onsale", places[order[0]].token).phase == waiting_room.USED
        assert room_store.waits(event_id)[1].keys() == {*order[:3], order[3]}
        assert waiting_room.place("onsale", places[order[4]].token).phase == waiting_room.QUEUED
        frozen.advance(3 * MINUTE)  # the third admission lapses unused: the next place is let in
        phases = {n: waiting_room.place("onsale", places[n].token).phase for n in order[2:]}
        assert phases == {order[2]: waiting_room.LAPSED, order[3]: waiting_room.ADMITTED,
                          order[4]: waiting_room.ADMITTED}
        assert waiting_room.place("onsale", late.token).phase == waiting_room.QUEUED
        assert_not_oversold(event_id, frozen.now())

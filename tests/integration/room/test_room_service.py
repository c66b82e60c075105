"""The waiting room through its services, against PostgreSQL and Redis."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from room_support import ON_SALE, pay, places_reading, published_rule, queue_order, room_seed

from eventsite.domain import waiting_room as rules
from eventsite.domain.errors import AdmissionRefused, AdmissionRequired, InvalidRequest, SalesClosed, SoldOut
from eventsite.domain.models import Event, TicketType
from eventsite.infra.db import db
from eventsite.services import reserving, waiting_room


def test_early_places_are_drawn_at_the_instant_and_admitted_as_the_stock_allows(room_event, frozen):
    room_event(capacity=3)
    places = [waiting_room.join("onsale", f"b{i}@example.test") for i in range(5)]
    assert {p.phase for p in places} == {waiting_room.BEFORE_DRAW}
    assert places[0].seed is None and places[0].seed_hash
    frozen.advance(timedelta(minutes=30))  # the on-sale instant
    late = waiting_room.join("onsale", "late@example.test")
    views = [waiting_room.place("onsale", p.token) for p in places]
    admitted = [v for v in views if v.phase == waiting_room.ADMITTED]
    assert len(admitted) == 3  # stock_multiple 1 x 3 tickets
    seed = views[0].seed
    assert rules.seed_hash(seed) == places[0].seed_hash
    order = rules.drawn_order(seed, range(1, 6))
    assert sorted(v.number for v in admitted) == sorted(order[:3])
    queued = sorted((v for v in views if v.phase == waiting_room.QUEUED), key=lambda v: v.ahead)
    assert [v.number for v in queued] == order[3:]
    assert waiting_room.place("onsale", late.token).ahead == 2  # behind everyone drawn


def test_reserving_needs_a_genuine_unused_admission_while_the_room_is_open(room_event, frozen):
    event_id, ga = room_event(capacity=3)
    place = waiting_room.join("onsale", "a@example.test")
    frozen.advance(timedelta(minutes=30))
    admitted = waiting_room.place("onsale", place.token)
    assert admitted.phase == waiting_room.ADMITTED
    with pytest.raises(AdmissionRequired):
        reserving.reserve("onsale", {ga: 1}, "x@example.test")
    forged = admitted.admission[:-1] + ("0" if admitted.admission[-1] != "0" else "1")
    with pytest.raises(AdmissionRefused, match="not one this shop gave out"):
        reserving.reserve("onsale", {ga: 1}, "x@example.test", admission=forged)
    order = reserving.reserve("onsale", {ga: 1}, "a@example.test", admission=admitted.admission)
    assert order.room_place == place.number
    assert waiting_room.place("onsale", place.token).phase == waiting_room.USED
    reserving.release(order, actor="buyer")
    with pytest.raises(AdmissionRefused, match="already placed a hold"):
        reserving.reserve("onsale", {ga: 1}, "a@example.test", admission=admitted.admission)


def test_an_unused_admission_lapses_and_passes_to_the_next_place(room_event, frozen):
    room_event(capacity=1)
    first, second = (waiting_room.join("onsale", f"{n}@example.test") for n in ("a", "b"))
    frozen.advance(timedelta(minutes=30))
    views = {p.number: waiting_room.place("onsale", p.token) for p in (first, second)}
    [winner] = [v for v in views.values() if v.phase == waiting_room.ADMITTED]
    [other] = [v for v in views.values() if v.phase == waiting_room.QUEUED]
    frozen.advance(timedelta(minutes=5))
    assert waiting_room.place("onsale", winner.token).phase == waiting_room.LAPSED
    with pytest.raises(AdmissionRefused, match="lapsed"):
        reserving.reserve("onsale", {1: 1}, "a@example.test", admission=winner.admission)
    assert waiting_room.place("onsale", other.token).phase == waiting_room.ADMITTED


def test_the_room_closes_when_sold_out(room_event, frozen):
    event_id, ga = room_event(capacity=1)
    a, b = (waiting_room.join("onsale", f"{n}@example.test") for n in ("a", "b"))
    frozen.advance(timedelta(minutes=30))
    [admitted] = [v for v in (waiting_room.place("onsale", p.token) for p in (a, b))
                  if v.phase == waiting_room.ADMITTED]
    order = reserving.reserve("onsale", {ga: 1}, "a@example.test", admission=admitted.admission)
    frozen.advance(timedelta(seconds=1))
    assert set(places_reading("onsale", (a, b)).values()) == {waiting_room.USED, waiting_room.QUEUED}
    pay(order.id)
    frozen.advance(timedelta(seconds=1))
    assert places_reading("onsale", (a, b)) == {a.number: waiting_room.CLOSED, b.number: waiting_room.CLOSED}
    assert waiting_room.place("onsale", b.token).closed_reason == "sold_out"
    with pytest.raises(SalesClosed, match="Sold out: the waiting room has closed"):
        waiting_room.join("onsale", "c@example.test")
    room = db.session.get(Event, event_id).waiting_room
    assert (room.closed_at, room.closed_reason) == (frozen.now(), "sold_out")
    assert json.loads(room.report)["admitted"] == 1
    # The room no longer stands in front: a buyer without an admission is told it is sold out.
    with pytest.raises(SoldOut) as refused:
        reserving.reserve("onsale", {ga: 1}, "d@example.test")
    assert not isinstance(refused.value, AdmissionRequired)


SECOND = timedelta(seconds=1)


def tick_after(event_id: int, frozen, step: timedelta = SECOND) -> list[int]:
    """Move the clock on and run the room's tick: the places it admits (a join, poll or leave in the
    same second finds the tick done)."""
    frozen.advance(step)
    return waiting_room.tick(event_id)


def test_admission_follows_the_draw_exactly_and_later_arrivals_keep_their_arrival_order(room_event, frozen):
    event_id, _ = room_event(capacity=36)  # 600 a minute: 10 a second
    early = [waiting_room.join("onsale", f"e{i}@example.test") for i in range(30)]
    assert [p.number for p in early] == list(range(1, 31))
    order = published_rule(room_seed(event_id), range(1, 31))
    admitted = [tick_after(event_id, frozen, timedelta(minutes=30))]  # the on-sale instant
    late = [waiting_room.join("onsale", f"l{i}@example.test") for i in range(2)]
    admitted.append(tick_after(event_id, frozen))
    late += [waiting_room.join("onsale", f"l{i}@example.test") for i in range(2, 6)]  # while the room admits
    admitted += [tick_after(event_id, frozen) for _ in range(3)]
    assert admitted == [order[:10], order[10:20], order[20:30], [31, 32, 33, 34, 35, 36], []]
    assert [p.number for p in late] == [31, 32, 33, 34, 35, 36]
    draw = waiting_room.published_draw("onsale")
    assert (draw["drawn"], draw["order"], rules.seed_hash(draw["seed"])) == (30, order, early[0].seed_hash)


def test_a_queued_place_sees_the_people_ahead_of_it_in_the_drawn_order(room_event, frozen):
    event_id, _ = room_event(capacity=1, admissions_per_minute=60)
    places = {p.number: p for p in (waiting_room.join("onsale", f"e{i}@example.test") for i in range(6))}
    frozen.advance(timedelta(minutes=30))
    late = waiting_room.join("onsale")
    order = queue_order(room_seed(event_id), 6, 7)
    views = {n: waiting_room.place("onsale", p.token) for n, p in places.items()}
    assert views[order[0]].phase == waiting_room.ADMITTED
    assert [(views[n].phase, views[n].ahead) for n in order[1:6]] == [(waiting_room.QUEUED, i) for i in range(5)]
    late_view = waiting_room.place("onsale", late.token)
    assert (late_view.ahead, late_view.people, late_view.tickets_left) == (5, 7, 1)
    assert late_view.out_of_reach and not views[order[1]].out_of_reach  # 1 ticket, 5 ahead of the late one
    assert late_view.wait == timedelta(seconds=60 * 5)  # one admitted in the last minute


def test_one_place_per_email_and_per_browser(room_event, frozen):
    room_event()
    first = waiting_room.join("onsale", "Ann@Example.test")
    with pytest.raises(waiting_room.AlreadyInRoom, match="ann@example.test already has a place") as refused:
        waiting_room.join("onsale", "  ann@example.TEST ")
    assert refused.value.http_status == 409
    browser = waiting_room.join("onsale", "other@example.test", token=first.token)  # the cookie's place
    assert browser.number == 1
    anonymous = waiting_room.join("onsale")
    assert (anonymous.number, anonymous.people) == (2, 2)
    with pytest.raises(InvalidRequest, match="email") as refused:
        waiting_room.join("onsale", "not an address")
    assert refused.value.http_status == 422
    assert waiting_room.join("onsale").people == 3  # nothing was taken by the refusals


def test_leaving_skips_the_place_and_passes_its_admission_on(room_event, frozen):
    event_id, _ = room_event(capacity=10, admissions_per_minute=60)  # one a second
    places = {p.number: p for p in (waiting_room.join("onsale", f"e{i}@example.test") for i in range(5))}
    order = queue_order(room_seed(event_id), 5, 5)
    assert waiting_room.leave("onsale", places[order[1]].token).phase == waiting_room.LEFT  # before the draw
    assert [tick_after(event_id, frozen, timedelta(minutes=30)), tick_after(event_id, frozen)] == [
        [order[0]], [order[2]]]
    assert waiting_room.leave("onsale", places[order[3]].token).phase == waiting_room.LEFT  # while queued
    assert [tick_after(event_id, frozen), tick_after(event_id, frozen)] == [[order[4]], []]
    assert places_reading("onsale", places.values()) == {
        order[0]: waiting_room.ADMITTED, order[1]: waiting_room.LEFT, order[2]: waiting_room.ADMITTED,
        order[3]: waiting_room.LEFT, order[4]: waiting_room.ADMITTED}
    # Its browser joining again gets a new place, at the back.
    back = waiting_room.join("onsale", token=places[order[1]].token)
    assert back.number == 6 and back.phase == waiting_room.QUEUED


def test_the_report_gives_the_median_and_95th_percentile_wait(room_event, frozen):
    event_id, ga = room_event(capacity=5, admissions_per_minute=60)  # one a second, five at once at most
    early = [waiting_room.join("onsale", f"e{i}@example.test") for i in range(5)]
    order = published_rule(room_seed(event_id), range(1, 6))
    admitted = [tick_after(event_id, frozen, timedelta(minutes=30))] + [tick_after(event_id, frozen) for _ in range(4)]
    assert admitted == [[n] for n in order]  # waited 0, 1, 2, 3 and 4 s after the on-sale
    frozen.advance(16 * SECOND)
    late = waiting_room.join("onsale", "late@example.test")  # at +20 s
    assert waiting_room.place("onsale", late.token).phase == waiting_room.QUEUED  # five admissions open
    frozen.advance(30 * SECOND)
    # At +300 s the first admission lapses unused, so the late one is admitted in its stead.
    assert tick_after(event_id, frozen, 250 * SECOND) == [late.number]
    waits = [0, 1, 2, 3, 4, 280]
    rank = 0.95 * (len(waits) - 1)  # the 95th percentile, interpolated between the nearest ranks
    p95 = waits[int(rank)] + (rank - int(rank)) * (waits[int(rank) + 1] - waits[int(rank)])
    expected = {"places": 6, "admitted": 6, "waits": {"median": 2.5, "p95": round(p95, 1)}}
    event = db.session.get(Event, event_id)
    assert waiting_room.report(event).waits == expected and p95 == 211
    # Sales end: the room closes and keeps the same report, whatever Redis forgets later.
    db.session.get(TicketType, ga).sales_end = frozen.now() + SECOND
    db.session.commit()
    frozen.advance(SECOND)
    assert places_reading("onsale", [*early, late]) == {p.number: waiting_room.CLOSED for p in (*early, late)}
    event = db.session.get(Event, event_id)
    assert (event.waiting_room.closed_reason, json.loads(event.waiting_room.report)) == ("sales_ended", expected)
    report = waiting_room.report(event)
    assert (report.figures.people, report.figures.admitted, report.waits) == (6, 6, expected)


def test_an_admission_given_within_a_second_lasts_as_long_as_its_place_says(room_event, frozen):
    event_id, ga = room_event(capacity=2)
    first, second = (waiting_room.join("onsale", f"{n}@example.test") for n in "ab")
    frozen.advance(timedelta(minutes=30, milliseconds=500))  # the first poll after the on-sale
    views = [waiting_room.place("onsale", p.token) for p in (first, second)]
    assert {v.phase for v in views} == {waiting_room.ADMITTED}
    last_moment = views[0].admission_until - timedelta(milliseconds=1)
    frozen.advance(last_moment - frozen.now())
    assert waiting_room.place("onsale", first.token).phase == waiting_room.ADMITTED
    order = reserving.reserve("onsale", {ga: 1}, "a@example.test", admission=views[0].admission)
    assert order.room_place == first.number
    frozen.advance(timedelta(milliseconds=1))
    assert waiting_room.place("onsale", second.token).phase == waiting_room.LAPSED
    with pytest.raises(AdmissionRefused, match="lapsed"):
        reserving.reserve("onsale", {ga: 1}, "b@example.test", admission=views[1].admission)

"""The waiting room's buyer pages through the Flask test client, against PostgreSQL and Redis (and,
for the outage, a redis-server of the test's own): the room page and its poll in every phase, the
event page while the room guards it and after, reserving without an admission, joining and leaving
(CSRF, one place per browser and per address, the rate limit, bad input) and the published draw,
whose order is recomputed here from the seed."""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

import pytest
from own_services import own_redis
from room_support import EVENT, ON_SALE, ROOM, Visitor, set_room
from shop_support import HX
from sqlalchemy import select

from eventsite.domain.models import Order, WaitingRoom
from eventsite.infra.db import db
from eventsite.services import paying


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def live_part(html: str) -> str:
    match = re.search(r'<section id="room-live".*?</section>', html, re.S)
    assert match, "no live part on the room page"
    return match.group(0)


def drawn_order(seed: str, places) -> list[int]:
    """The published rule, written out independently of the shop's code."""
    return sorted(places, key=lambda n: hmac.new(seed.encode("ascii"), str(n).encode("ascii"),
                                                 hashlib.sha256).hexdigest())


def seed_of(app, event_id: int) -> tuple[str, str]:
    with app.app_context():
        room = db.session.scalar(select(WaitingRoom).where(WaitingRoom.event_id == event_id))
        return room.seed, room.seed_hash


def orders(app) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [(o.email, o.room_place) for o in db.session.scalars(select(Order).order_by(Order.id))]


@pytest.fixture
def visitors(app):
    """``visitors(n)``: n browsers, each with its own session cookie."""
    return lambda n: [Visitor(app) for _ in range(n)]


def joined_at_the_on_sale(visitors, how_many: int, frozen) -> list[Visitor]:
    """``how_many`` browsers that joined the room (place numbers 1.. in arrival order), at the on-sale instant."""
    people = visitors(how_many)
    for visitor in people:
        visitor.join()
    frozen.advance(timedelta(minutes=30))
    return people


def admitted_one(people: list[Visitor]) -> tuple[Visitor, list[Visitor]]:
    """Poll everyone once: the one sent to the event page, and the rest."""
    admitted = [v for v in people if v.poll().headers.get("HX-Redirect") == EVENT]
    assert len(admitted) == 1
    return admitted[0], [v for v in people if v is not admitted[0]]


# --- before the on-sale -----------------------------------------------------------------

def test_before_the_on_sale_the_room_shows_the_seed_hash_the_countdown_and_the_place(
        app, room_event, visitors, frozen):
    event_id, _ = room_event()
    seed, seed_hash = seed_of(app, event_id)
    ann, bob = visitors(2)
    event_page = ann.get(EVENT).text
    assert 'id="reserve-form"' not in event_page and f'action="{ROOM}"' in event_page  # the room, not the form
    assert "Tickets go on sale at Mon 01 Jun 2026, 12:30 UTC" in text(event_page)
    assert f"<code>{seed_hash}</code>" in event_page

    joined = ann.join()
    assert (joined.status_code, joined.headers["Location"]) == (303, ROOM)
    page = ann.room()
    live = live_part(page)
    assert "You are in the waiting room" in text(live)
    assert "At the on-sale, in 30:00, everyone here gets a random place in line. 1 person is here so far." in text(live)
    assert 'data-expires-at="2026-06-01T12:30:00.000+00:00"' in live  # the countdown, ticked by the browser
    assert "Your place number is 1." in text(live)
    assert f"its SHA-256 is {seed_hash}; the seed is published at the on-sale" in text(live)
    assert seed not in page
    assert f'hx-get="{ROOM}/status"' in live and "countdown-expired" in live
    assert "You are in this event's waiting room. Back to your place" in text(ann.get(EVENT).text)

    first = ann.poll()
    assert first.status_code == 200 and "<html" not in first.text and "1 person is here so far" in text(first.text)
    frozen.advance(timedelta(minutes=10))
    assert ann.poll(first.headers["ETag"]).status_code == 304  # unchanged (the countdown ticks in the browser)
    bob.join()
    changed = ann.poll(first.headers["ETag"])
    assert changed.status_code == 200 and "in 20:00" in text(changed.text) and "2 people are here so far" in text(
        changed.text)
    assert "Your place number is 2." in text(bob.room())


# --- the on-sale instant, admission, reserving -------------------------------------------

def test_at_the_on_sale_the_place_is_drawn_then_sent_to_the_event_page_whose_form_shows_its_turn(
        app, room_event, visitors, frozen):
    event_id, ga = room_event(capacity=3)
    seed, seed_hash = seed_of(app, event_id)
    ann, late = visitors(2)
    ann.join()
    frozen.advance(timedelta(minutes=30) - timedelta(milliseconds=500))
    etag = ann.poll().headers["ETag"]  # this poll ran the room's tick for this second
    frozen.advance(timedelta(milliseconds=500))  # the on-sale instant
    late.join()  # the first arrival at the instant closes the draw; the next tick draws it
    drawing = ann.poll(etag)
    assert drawing.status_code == 200 and "Drawing places… The on-sale has begun" in text(drawing.text)
    assert f"its SHA-256 is {seed_hash}" in text(drawing.text)

    frozen.advance(timedelta(seconds=1))  # the next tick: drawn and admitted
    admitted = ann.poll(drawing.headers["ETag"])
    assert (admitted.status_code, admitted.headers["HX-Redirect"], admitted.text) == (200, EVENT, "")
    event_page = ann.get(EVENT).text
    assert "It is your turn: reserve your tickets within 05:00." in text(event_page)
    assert 'data-expires-at="2026-06-01T12:35:01.000+00:00"' in event_page  # the admission's own countdown
    assert 'id="reserve-form"' in event_page and f'name="qty-{ga}"' in event_page
    assert ann.get(ROOM).headers["Location"] == EVENT  # the room page sends it on too

    reserved = ann.reserve(ga, 2)
    assert reserved.status_code == 303 and reserved.headers["Location"].startswith("/r/")
    assert orders(app) == [("ann@example.test", 1)]
    used = live_part(ann.room())
    assert "You reserved tickets" in text(used) and f'href="{reserved.headers["Location"]}"' in used
    assert f"The draw's seed: {seed} (SHA-256 {seed_hash}). Check the draw." in text(used)
    assert "hx-get" not in used  # final: no more polling


def test_queued_places_see_who_is_ahead_what_is_left_and_the_wait_in_the_drawn_order(app, room_event, visitors,
                                                                                      frozen):
    event_id, ga = room_event(capacity=2)
    people = joined_at_the_on_sale(visitors, 5, frozen)
    seed, _ = seed_of(app, event_id)
    order = drawn_order(seed, range(1, 6))
    by_place = {number: people[number - 1] for number in order}
    # The tick admits what the stock allows (2 tickets x multiple 1), strictly in the drawn order.
    assert [by_place[n].poll().headers.get("HX-Redirect") for n in order] == [EVENT, EVENT, None, None, None]

    next_, second, last = (live_part(by_place[n].room()) for n in order[2:])
    assert "You are next 2 tickets left." in text(next_) and "Estimated wait" not in text(next_)
    assert "1 person ahead of you 2 tickets left. Estimated wait: about 1 minute." in text(second)
    assert "data-out-of-reach" not in second
    assert "2 people ahead of you 2 tickets left. Estimated wait: about 1 minute." in text(last)
    assert ("You are unlikely to get tickets in this on-sale. The 2 people ahead of you want at least 2 tickets, "
            "and only 2 are left or may come back.") in text(last)
    assert f'href="{ROOM}/waitlist">Join the waiting list</a>' in last
    assert all(f'hx-get="{ROOM}/status"' in part for part in (next_, second, last))

    # One admitted buyer reserves both tickets: they are no longer left, but may come back.
    assert by_place[order[0]].reserve(ga, 2).status_code == 303
    frozen.advance(timedelta(seconds=1))
    assert "You are next 0 tickets left, and 2 held by buyers that may come back." in text(
        by_place[order[2]].poll().text)


def test_a_place_that_will_not_get_in_is_offered_the_waiting_list(app, room_event, visitors, frozen):
    event_id, ga = room_event(capacity=1)
    people = joined_at_the_on_sale(visitors, 3, frozen)
    order = drawn_order(seed_of(app, event_id)[0], range(1, 4))
    last = people[order[-1] - 1]
    assert ("You are unlikely to get tickets in this on-sale. The person ahead of you wants at least 1 ticket, and "
            "only 1 is left or may come back.") in text(last.poll().text)
    offer = last.get(f"{ROOM}/waitlist")
    assert offer.status_code == 200
    shown = text(offer.text)
    assert "Join the waiting list If this on-sale sells out, tickets that come back later" in shown
    assert "Back to my place" in shown and "room-live" not in offer.text  # the step stops polling
    form = re.search(r'<form method="post" action="/events/onsale/waitlist".*?</form>', offer.text, re.S).group(0)
    assert f'name="ticket_type_id" value="{ga}"' in form and 'name="email" required' in form
    assert re.findall(r'<option value="(\d+)"', form) == ["1", "2", "3", "4"]  # GA's per-order limit
    # A place that is admitted (or has no place) has nothing to be offered: back to the room.
    assert people[order[0] - 1].get(f"{ROOM}/waitlist").headers["Location"] == EVENT
    assert visitors(1)[0].get(f"{ROOM}/waitlist").headers["Location"] == ROOM

    joined = last.post(f"{EVENT}/waitlist", {"csrf_token": last.csrf(), "ticket_type_id": str(ga), "quantity": "2",
                                             "email": "last@example.test"}, headers=HX)
    assert joined.status_code == 200 and joined.headers["HX-Redirect"].startswith("/w/")  # the place in line
    assert last.get(joined.headers["HX-Redirect"]).status_code == 200
    assert "1 person ahead of you" in text(last.room())  # and the place in the room stays


# --- what becomes of a place --------------------------------------------------------------

def test_an_admission_not_used_lapses_and_the_turn_passes_on(app, room_event, visitors, frozen):
    _, ga = room_event(capacity=1)
    people = joined_at_the_on_sale(visitors, 2, frozen)
    first, [other] = admitted_one(people)
    assert "It is your turn" in text(first.get(EVENT).text)

    frozen.advance(timedelta(minutes=5))  # the admission's last instant has passed
    lapsed = first.poll()
    assert "Your turn has passed You did not reserve within the time given" in text(lapsed.text)
    assert "hx-get" not in lapsed.text and "Join the waiting room again" in lapsed.text
    assert other.poll().headers["HX-Redirect"] == EVENT  # the next place's turn
    event_page = first.get(EVENT).text
    assert 'id="reserve-form"' not in event_page and "Back to your place" in event_page
    refused = first.reserve(ga)
    assert refused.status_code == 403 and "Your admission has lapsed" in text(refused.text)
    assert orders(app) == []

    again = first.join()  # at the back of the line, with a new place: behind the one admitted now
    assert again.status_code == 303
    assert "You are next 1 ticket left." in text(live_part(first.room()))


def test_leaving_asks_first_then_gives_up_the_place(app, room_event, visitors, frozen):
    room_event()
    [ann] = visitors(1)
    ann.join()
    page = ann.room()
    assert f'<a href="{ROOM}/leave">Leave the waiting room</a>' in page
    confirm = ann.get(f"{ROOM}/leave")
    assert confirm.status_code == 200
    assert ("Leave the waiting room? Leaving gives up this place for good: joining again puts you at the back of "
            "the line, behind everyone in the draw.") in text(confirm.text)
    assert "No, keep my place" in text(confirm.text) and "room-live" not in confirm.text
    assert "You are in the waiting room" in text(ann.room())  # asking changed nothing

    assert ann.leave(csrf=False).status_code == 400  # no CSRF token
    assert "You are in the waiting room" in text(ann.room())
    left = ann.leave()
    assert (left.status_code, left.headers["Location"]) == (303, ROOM)
    gone = live_part(ann.room())
    assert "You left the waiting room" in text(gone) and "hx-get" not in gone
    assert ann.get(f"{ROOM}/leave").headers["Location"] == ROOM  # nothing left to confirm
    assert ann.join().status_code == 303 and "Your place number is 2." in text(ann.room())


def test_the_room_closes_when_sold_out_and_the_event_page_shows_the_form_again(app, room_event, visitors, frozen):
    _, ga = room_event(capacity=1)
    people = joined_at_the_on_sale(visitors, 2, frozen)
    buyer, [other] = admitted_one(people)
    etag = other.poll().headers["ETag"]
    assert buyer.reserve(ga).status_code == 303
    with app.app_context():
        [order] = db.session.scalars(select(Order)).all()
        assert paying.confirm_payment(order.id, reason="paid", actor="test")
    frozen.advance(timedelta(seconds=1))  # the next tick sees nothing left to sell
    closed = other.poll(etag)
    assert closed.status_code == 200
    assert "Sold out The waiting room has closed: every ticket is sold." in text(closed.text)
    assert 'href="/events/onsale">Join the waiting list</a>' in closed.text and "hx-get" not in closed.text
    assert other.get(ROOM).headers["Location"] == EVENT
    event_page = other.get(EVENT).text
    assert 'id="reserve-form"' in event_page and "Sold out" in text(event_page)
    assert "waiting room" not in text(event_page).lower()


def test_a_room_switched_off_ends_and_tickets_sell_on_the_event_page(app, room_event, visitors, frozen):
    event_id, ga = room_event()
    [ann] = visitors(1)
    ann.join()
    etag = ann.poll().headers["ETag"]
    with app.app_context():
        set_room(event_id, enabled=False)
    ended = ann.poll(etag)
    assert "The waiting room has ended Tickets are on sale directly." in text(ended.text)
    assert "hx-get" not in ended.text
    assert ann.get(ROOM).headers["Location"] == EVENT
    frozen.advance(timedelta(minutes=30))
    assert 'id="reserve-form"' in ann.get(EVENT).text
    assert ann.reserve(ga).status_code == 303  # no admission needed any more


def test_with_redis_down_the_room_is_paused_and_a_place_it_lost_says_so(app, room_event, visitors, frozen, settings):
    with own_redis() as redis:
        settings(REDIS_URL=redis.url)  # this test's own Redis, which it stops and starts again empty
        room_event()
        ann, bob = visitors(2)
        ann.join()
        etag = ann.poll().headers["ETag"]
        redis.stop()
        paused = ann.poll(etag)
        assert paused.status_code == 200
        assert "The waiting room is paused We cannot reach the room's queue for a moment." in text(paused.text)
        assert f'hx-get="{ROOM}/status"' in paused.text  # it goes on asking
        assert "The waiting room is paused" in text(ann.room())
        refused = bob.join()
        assert refused.status_code == 503 and "The waiting room is paused for a moment" in text(refused.text)

        redis.start()  # back, empty: the places are gone
        lost = ann.poll(paused.headers["ETag"])
        assert "Your place was lost The room's queue was reset." in text(lost.text) and "hx-get" not in lost.text
        assert ann.join().status_code == 303
        assert "Your place number is 1." in text(ann.room())


def test_a_status_poll_without_a_place_goes_to_the_room_page(room_event, visitors):
    room_event()
    [ann] = visitors(1)
    polled = ann.poll()
    assert (polled.status_code, polled.headers["HX-Redirect"]) == (200, ROOM)
    assert 'id="room-join-title"' in ann.room()


# --- reserving while the room guards the event --------------------------------------------

@pytest.mark.parametrize("headers", [{}, HX], ids=["form", "htmx"])
def test_reserving_without_an_admission_is_refused_with_a_way_to_the_room(
        app, room_event, visitors, frozen, table_counts, headers):
    _, ga = room_event()
    [ann] = visitors(1)
    frozen.advance(timedelta(minutes=30))  # on sale, but only through the room
    before = table_counts()
    refused = ann.reserve(ga, headers=headers)
    assert refused.status_code == 403
    assert ("Tickets for this event are sold through its waiting room: join the room, and reserve when it is "
            "your turn.") in text(refused.text)
    assert f'<a href="{ROOM}">Go to the waiting room</a>' in refused.text
    assert ("<html" in refused.text) == (not headers)
    assert table_counts() == before


# --- joining: CSRF, one place per browser and address, the rate limit, bad input ----------

def test_joining_needs_the_form_token_and_gives_one_place_per_browser_and_per_address(app, room_event, visitors):
    room_event()
    ann, ann_elsewhere, bob = visitors(3)
    refused = ann.join("ann@example.test", csrf=False)
    assert refused.status_code == 400 and "This form has expired" in refused.text
    assert 'id="room-join-title"' in ann.room()  # no place was taken

    assert ann.join("ann@example.test").status_code == 303
    assert ann.join().status_code == 303  # the same browser again: its place, not a second one
    assert "1 person is here so far." in text(ann.room()) and "Your place number is 1." in text(ann.room())
    again = ann_elsewhere.join("ANN@example.test")  # the address already has a place
    assert again.status_code == 409
    assert "ann@example.test already has a place in this waiting room" in text(again.text)
    assert 'id="room-join-title"' in again.text and 'value="ANN@example.test"' in again.text
    assert bob.join("bob@example.test").status_code == 303
    assert "Your place number is 2." in text(bob.room())


def test_a_bad_email_is_refused_with_its_message_and_joins_nothing(room_event, visitors):
    room_event()
    ann, bob = visitors(2)
    refused = ann.join("not-an-email")
    assert refused.status_code == 422 and "Enter a valid email address." in text(refused.text)
    assert 'value="not-an-email"' in refused.text  # what was typed is kept
    assert bob.join().status_code == 303
    assert "1 person is here so far." in text(bob.room()) and "Your place number is 1." in text(bob.room())


def test_joining_too_often_from_one_address_is_a_429_with_retry_after(app, room_event, limited):
    room_event()
    shop = limited(ROOM_JOIN_RATE_LIMIT="2/hour")
    people = [Visitor(shop) for _ in range(3)]
    assert [v.join().status_code for v in people[:2]] == [303, 303]
    refused = people[2].join(headers=HX)
    assert refused.status_code == 429
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert re.search(r"Too many places taken from your connection; try again in \d+ seconds\.", text(refused.text))
    assert 'id="room-join-title"' in people[2].room()  # no place
    assert "2 people are here so far" in text(people[0].room())


def test_the_room_page_before_it_opens_and_without_a_room_is_the_event_page(app, room_event, make_event, visitors,
                                                                           frozen):
    event_id, _ = room_event()
    with app.app_context():
        set_room(event_id, opens_minutes_before=10)  # opens at 12:20; it is 12:00
    [ann] = visitors(1)
    assert ann.get(ROOM).headers["Location"] == EVENT
    refused = ann.join()
    assert refused.status_code == 409 and "The waiting room has not opened yet" in text(refused.text)
    make_event(slug="plain")
    assert ann.get("/events/plain/room").headers["Location"] == "/events/plain"


# --- the published draw -------------------------------------------------------------------

def test_the_draw_publishes_its_seed_only_at_the_on_sale_and_its_order_follows_the_rule(
        app, room_event, visitors, frozen):
    event_id, _ = room_event(capacity=2)
    seed, seed_hash = seed_of(app, event_id)
    people = visitors(6)
    for visitor in people[:5]:
        visitor.join()
    before = visitors(1)[0].get(f"{ROOM}/draw")
    assert before.status_code == 200 and before.headers["Cache-Control"] == "no-cache"
    assert set(before.json) == {"seed_hash", "on_sale", "rule"}
    assert (before.json["seed_hash"], before.json["on_sale"]) == (seed_hash, ON_SALE.isoformat())

    frozen.advance(timedelta(minutes=30))
    people[5].join()  # after the instant: behind the draw, not in it
    after = visitors(1)[0].get(f"{ROOM}/draw").json
    assert hashlib.sha256(after["seed"].encode("ascii")).hexdigest() == after["seed_hash"] == seed_hash
    assert after["drawn"] == 5
    assert after["order"] == drawn_order(after["seed"], range(1, 6))
    assert "HMAC-SHA256" in after["rule"]


def test_the_event_list_says_the_waiting_room_is_open(client, room_event, frozen):
    room_event()  # the clock stands at the room's opening, 30 minutes before the on-sale
    listing = client.get("/").text
    assert "badge-waiting-room-open" in listing and "Waiting room open" in listing
    frozen.advance(timedelta(minutes=-1))  # a minute before the room opens: nothing is on sale yet
    listing = client.get("/").text
    assert "badge-coming-soon" in listing and "Waiting room open" not in listing

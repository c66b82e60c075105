"""The waiting room through the API: taking, reading and leaving a place, the draw, reserving with
the admission a place is given (and without, or with a bad one), the room in the event, the rate
limit on joining."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from room_support import ON_SALE, set_room

from eventsite.domain import waiting_room as rules

API = "/api/v1"
ROOM = f"{API}/events/onsale/room"


@pytest.fixture
def join(client):
    """POST a join to ``slug``'s room, with ``email`` if given (no body otherwise)."""

    def post(email: str | None = None, slug: str = "onsale", **kwargs):
        return client.post(f"{API}/events/{slug}/room", json={"email": email} if email else None, **kwargs)

    return post


@pytest.fixture
def reserve_one(client):
    """Reserve one ticket of ``ga`` on ``slug``, sending ``admission`` if given."""

    def post(ga: int, admission: str | None = None, email: str = "buyer@example.test", slug: str = "onsale"):
        body = {"email": email, "items": [{"ticket_type_id": ga, "quantity": 1}]}
        return client.post(f"{API}/events/{slug}/reservations",
                           json=body if admission is None else {**body, "admission": admission})

    return post


def _refusal(response) -> tuple[int, str]:
    return response.status_code, response.json["error"]["code"]


def _admitted(client, places: list[dict], slug: str = "onsale") -> list[dict]:
    """The places (as read now) that are admitted."""
    read = [client.get(f"{API}/events/{slug}/room/places/{p['token']}").json for p in places]
    return [p for p in read if p["phase"] == "admitted"]


def test_a_place_taken_before_the_on_sale_is_admitted_at_the_instant_and_reserves_once(
        client, room_event, frozen, join, reserve_one, table_counts):
    event_id, ga = room_event(capacity=3)
    joined = join("ann@example.test")

    assert joined.status_code == 201
    place = joined.json
    assert joined.headers["Location"] == place["links"]["self"]["href"] == f"{ROOM}/places/{place['token']}"
    assert joined.headers["Cache-Control"] == "no-store"  # the token is the key to the place
    assert (place["phase"], place["number"], place["seed"], place["admission"]) == ("before_draw", 1, None, None)
    assert place["on_sale"] == ON_SALE.isoformat() and len(place["seed_hash"]) == 64
    assert set(place["links"]) == {"self", "event", "draw", "leave"}  # nothing to reserve with yet

    frozen.advance(timedelta(minutes=30))  # the on-sale instant: drawn and, with 3 tickets, admitted
    admitted = client.get(place["links"]["self"]["href"]).json
    assert admitted["phase"] == "admitted"
    assert admitted["admission_expires_at"] == (ON_SALE + timedelta(minutes=5)).isoformat()
    assert hashlib.sha256(admitted["seed"].encode()).hexdigest() == place["seed_hash"]  # the seed, now published
    assert admitted["links"]["reserve"] == {"href": f"{API}/events/onsale/reservations", "method": "POST"}

    held = reserve_one(ga, admitted["admission"], email="ann@example.test")
    assert held.status_code == 201, held.json
    assert client.get(place["links"]["self"]["href"]).json["phase"] == "used"

    counts = table_counts()
    again = reserve_one(ga, admitted["admission"], email="bob@example.test")
    assert _refusal(again) == (403, "admission_invalid")
    assert "already placed a hold" in again.json["error"]["message"]
    assert table_counts() == counts


def test_without_an_admission_reserving_is_refused_with_the_way_to_the_room(room_event, reserve_one, table_counts):
    _, ga = room_event()
    counts = table_counts()

    refused = reserve_one(ga)

    assert _refusal(refused) == (403, "admission_required")
    assert "waiting room" in refused.json["error"]["message"]
    assert refused.json["error"]["links"] == {"room": {"href": ROOM, "method": "POST"},
                                              "room_page": {"href": "/events/onsale/room", "method": "GET"}}
    assert table_counts() == counts


def test_forged_lapsed_and_other_events_admissions_are_refused(
        client, room_event, make_event, frozen, join, reserve_one, table_counts):
    _, ga = room_event(capacity=3)
    other_id, _ = make_event({"name": "GA", "capacity": 3, "sales_start": ON_SALE}, slug="other")
    set_room(other_id)
    mine, theirs = join("ann@example.test").json, join("ann@example.test", slug="other").json
    frozen.advance(timedelta(minutes=30))
    [admission] = [p["admission"] for p in _admitted(client, [mine])]
    [other_admission] = [p["admission"] for p in _admitted(client, [theirs], slug="other")]
    counts = table_counts()

    forged = admission[:-1] + ("0" if admission[-1] != "0" else "1")
    assert "not one this shop gave out" in reserve_one(ga, forged).json["error"]["message"]
    assert "another event" in reserve_one(ga, other_admission).json["error"]["message"]
    assert _refusal(reserve_one(ga, "not-an-admission")) == (403, "admission_invalid")
    assert _refusal(reserve_one(ga, {"token": admission})) == (422, "invalid")  # not even a string
    frozen.advance(timedelta(minutes=5))  # unused for its five minutes: it lapses
    lapsed = reserve_one(ga, admission)
    assert _refusal(lapsed) == (403, "admission_invalid") and "lapsed" in lapsed.json["error"]["message"]
    assert table_counts() == counts
    assert client.get(f"{ROOM}/places/{mine['token']}").json["phase"] == "lapsed"


def test_an_email_takes_one_place_and_is_never_handed_it_again(room_event, join):
    room_event()
    first = join("ann@example.test")
    again = join("  ANN@example.test ")  # trimmed and compared without case, as everywhere

    assert first.status_code == 201
    # The place is the key to an admission: knowing the address must not be enough to get it.
    assert _refusal(again) == (409, "already_in_room")
    assert list(again.json["error"]["fields"]) == ["email"] and first.json["token"] not in again.text
    assert [join("bob@example.test").json["number"], join().json["number"], join().json["number"]] == [2, 3, 4]


def test_a_bad_join_is_a_422_and_takes_no_place(client, room_event, join):
    room_event()
    bad = {"email": "not an address"}, {"email": 7}, {"email": "a@example.test", "seat": 1}, [1]

    answers = [client.post(ROOM, json=body) for body in bad]

    assert [_refusal(a) for a in answers] == [(422, "invalid")] * 4
    assert [sorted(a.json["error"]["fields"]) for a in answers] == [["email"], ["email"], ["seat"], ["body"]]
    assert client.post(ROOM, data="email=a@example.test").status_code == 415  # a form post, cross-site
    assert join().json["number"] == 1  # none of them took a place


def test_joining_is_refused_before_the_room_opens_and_after_it_closed(client, room_event, frozen, join):
    room_event(opens_minutes_before=10)  # opens 20 minutes from now

    early = join("ann@example.test")
    assert _refusal(early) == (409, "conflict") and "not opened yet" in early.json["error"]["message"]
    assert client.get(f"{API}/events/onsale").json["waiting_room"]["admission_required"] is False

    frozen.advance(timedelta(minutes=20))
    place = join("ann@example.test").json
    assert place["phase"] == "before_draw"


def test_the_room_closes_when_sales_end_and_the_event_says_so(app, client, make_event, frozen, join):
    event_id, _ = make_event({"name": "GA", "capacity": 3, "sales_start": ON_SALE,
                              "sales_end": ON_SALE + timedelta(hours=1)}, slug="onsale")
    with app.app_context():
        set_room(event_id)
    place = join("ann@example.test").json
    room = client.get(f"{API}/events/onsale").json["waiting_room"]
    assert room == {"opens_at": frozen.now().isoformat(), "on_sale": ON_SALE.isoformat(), "admission_required": True,
                    "closed": None, "seed_hash": place["seed_hash"],
                    "links": {"room": {"href": ROOM, "method": "POST"},
                              "room_page": {"href": "/events/onsale/room", "method": "GET"},
                              "draw": {"href": f"{ROOM}/draw", "method": "GET"}}}

    frozen.advance(timedelta(hours=1, minutes=30))  # sales have ended: the next poll closes the room
    closed = client.get(place["links"]["self"]["href"]).json

    assert (closed["phase"], closed["closed_reason"]) == ("closed", "sales_ended")
    assert "leave" not in closed["links"]
    assert _refusal(join("bob@example.test")) == (409, "sales_closed")
    room = client.get(f"{API}/events/onsale").json["waiting_room"]
    assert (room["closed"], room["admission_required"]) == ("sales_ended", False)


def test_a_place_that_leaves_is_passed_over(client, room_event, frozen, join):
    room_event(capacity=1)
    leaving, staying = join("ann@example.test").json, join("bob@example.test").json

    left = client.delete(leaving["links"]["leave"]["href"])
    assert (left.status_code, left.json["phase"]) == (200, "left")
    assert "leave" not in left.json["links"]
    assert client.delete(leaving["links"]["self"]["href"]).json["phase"] == "left"  # again: no change

    frozen.advance(timedelta(minutes=30))  # one ticket: whatever the draw, it is the one who stayed
    assert [p["token"] for p in _admitted(client, [leaving, staying])] == [staying["token"]]


def test_an_unchanged_place_polls_as_a_bodiless_304(client, room_event, frozen, join):
    room_event()
    url = join("ann@example.test").json["links"]["self"]["href"]
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
    frozen.advance(timedelta(minutes=30))  # admitted at the on-sale: the answer changed
    admitted = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert admitted.status_code == 200 and admitted.json["phase"] == "admitted"


def test_the_draw_is_published_and_reproduces_the_admission_order(client, room_event, frozen, join):
    room_event(capacity=2)
    places = [join(f"b{n}@example.test").json for n in range(5)]
    before = client.get(f"{ROOM}/draw").json
    assert set(before) == {"seed_hash", "on_sale", "rule"} and before["seed_hash"] == places[0]["seed_hash"]

    frozen.advance(timedelta(minutes=30))
    admitted = {p["number"] for p in _admitted(client, places)}
    draw = client.get(f"{ROOM}/draw").json

    assert hashlib.sha256(draw["seed"].encode()).hexdigest() == draw["seed_hash"]
    assert draw["drawn"] == 5 and draw["order"] == rules.drawn_order(draw["seed"], range(1, 6))
    assert admitted == set(draw["order"][:2])  # two tickets: the first two of the draw


def test_what_is_not_there_is_a_404(client, make_event, room_event, join):
    make_event({"name": "GA", "capacity": 3}, slug="plain")
    room_event()
    place = join("ann@example.test").json
    forged = place["token"][:-1] + ("0" if place["token"][-1] != "0" else "1")

    assert client.get(f"{API}/events/plain").json["waiting_room"] is None
    for answer in (join(slug="nowhere"), join(slug="plain"), client.get(f"{API}/events/plain/room/draw"),
                   client.get(f"{ROOM}/places/{forged}"), client.delete(f"{ROOM}/places/{forged}"),
                   client.get(f"{ROOM}/places/not-a-token"),
                   client.get(f"{API}/events/plain/room/places/{place['token']}")):  # another event's place
        assert _refusal(answer) == (404, "not_found"), answer.request.path


def test_redis_down_pauses_the_room(client, room_event, frozen, join, settings):
    room_event()
    place = join("ann@example.test").json
    frozen.advance(timedelta(minutes=30))
    settings(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there

    assert _refusal(join("bob@example.test")) == (503, "room_paused")
    read = client.get(place["links"]["self"]["href"]).json
    assert (read["phase"], read["admission"]) == ("paused", None)  # nobody is admitted meanwhile


def test_joining_is_rate_limited_per_client(limited, room_event):
    room_event()
    client = limited(ROOM_JOIN_RATE_LIMIT="2/hour").test_client()

    def post(address: str, body=None):
        return client.post(ROOM, json=body, environ_base={"REMOTE_ADDR": address})

    assert post("10.0.0.1", {"email": 1}).status_code == 422  # a malformed request spends nothing
    assert [post("10.0.0.1").status_code for _ in range(2)] == [201, 201]
    refused = post("10.0.0.1")

    assert _refusal(refused) == (429, "too_many_requests")
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert post("10.0.0.2").status_code == 201  # another client has its own budget


def test_the_openapi_document_describes_the_room(client):
    document = client.get(f"{API}/openapi.json").json
    paths = document["paths"]

    assert set(paths["/events/{slug}/room"]) == {"post"}
    assert set(paths["/events/{slug}/room/places/{token}"]) == {"get", "delete"}
    assert set(paths["/events/{slug}/room/draw"]) == {"get"}
    assert "403" in paths["/events/{slug}/reservations"]["post"]["responses"]
    assert "admission" in document["components"]["schemas"]["ReservationRequest"]["properties"]
    assert "waiting_room" in document["components"]["schemas"]["Event"]["required"]

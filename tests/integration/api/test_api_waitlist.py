"""The waiting list and renewals through the API: joining, reading and leaving a place,
the offer it gets, the line in the public figures, and renewing a hold."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from eventsite import create_app
from eventsite.domain.models import TicketType, WaitlistEntry
from eventsite.infra.db import db
from eventsite.readmodels import lookups
from eventsite.services import paying, reserving, waitlist

API = "/api/v1"


def _hold(app, slug: str, quantities: dict[int, int], email: str) -> str:
    """A hold placed the way the pages place it, straight through the service."""
    with app.app_context():
        return reserving.reserve(slug, quantities, email).token


def _refusal(response) -> tuple[int, str]:
    return response.status_code, response.json["error"]["code"]


def _entries(app) -> list[tuple[str, str]]:
    """Every place ever taken, (email, status) in line order."""
    with app.app_context():
        return [(e.email, e.status.value) for e in db.session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id))]


@pytest.fixture
def join(client):
    def post(email: str, ticket_type_id: int, quantity: int = 1, slug: str = "gig", **kwargs):
        body = {"ticket_type_id": ticket_type_id, "quantity": quantity, "email": email}
        return client.post(f"{API}/events/{slug}/waitlist", json=body, **kwargs)

    return post


@pytest.fixture
def sold_out(app, rq_redis, frozen, make_event):
    """Event "gig": its 2 GA tickets are held by a@ and b@ (placed at T0, lapsing at T0 + 15 min)."""
    event_id, [ga] = make_event({"name": "GA", "capacity": 2, "per_order_limit": 4}, slug="gig")
    holds = [_hold(app, "gig", {ga: 1}, f"{who}@example.test") for who in "ab"]
    return ga, holds


def _line_figures(client, slug: str = "gig") -> list[tuple]:
    """(waiting_list, waiting, promised, available) per ticket type, in the event and in its availability."""
    keys = ("waiting_list", "waiting", "promised", "available")
    event = [tuple(tt[k] for k in keys) for tt in client.get(f"{API}/events/{slug}").json["ticket_types"]]
    polled = [tuple(tt[k] for k in keys) for tt in client.get(f"{API}/events/{slug}/availability").json["ticket_types"]]
    assert event == polled
    return polled


# --- joining, reading, leaving --------------------------------------------------

def test_joining_answers_the_place_and_its_url_and_the_line_shows_in_the_figures(client, sold_out, join, frozen):
    ga, _ = sold_out
    assert _line_figures(client) == [("open", 0, 0, 0)]

    first = join(" W1@Example.TEST ", ga, 2)
    second = join("w2@example.test", ga)

    assert first.status_code == 201 and first.headers["Cache-Control"] == "no-store"
    body = first.json
    assert first.headers["Location"] == f"{API}/waitlist/{body['token']}"
    assert {k: body[k] for k in ("email", "ticket_type_id", "ticket_type_name", "quantity", "state", "position",
                                 "people_waiting", "held_by_others", "next_release_at", "offer")} == {
        "email": "w1@example.test", "ticket_type_id": ga, "ticket_type_name": "GA", "quantity": 2,
        "state": "waiting", "position": 1, "people_waiting": 1, "held_by_others": 2,
        "next_release_at": (frozen.now() + timedelta(minutes=15)).isoformat(), "offer": None}
    assert body["event"] == {"slug": "gig", "title": "Event gig"}
    assert body["links"] == {"self": {"href": f"{API}/waitlist/{body['token']}", "method": "GET"},
                             "page": {"href": f"/w/{body['token']}", "method": "GET"},
                             "leave": {"href": f"{API}/waitlist/{body['token']}", "method": "DELETE"}}
    assert (second.json["position"], second.json["people_waiting"]) == (2, 2)
    assert client.get(body["links"]["page"]["href"]).status_code == 200  # the buyer's page for it

    read = client.get(f"{API}/waitlist/{body['token']}")
    assert read.status_code == 200 and read.headers["Cache-Control"] == "no-store"
    assert (read.json["position"], read.json["people_waiting"]) == (1, 2)
    assert _line_figures(client) == [("open", 2, 0, 0)]
    assert _entries(client.application) == [("w1@example.test", "waiting"), ("w2@example.test", "waiting")]


def test_a_ticket_that_comes_back_is_promised_to_the_line_in_the_figures(app, client, sold_out, join):
    ga, [a, _] = sold_out
    join("w@example.test", ga)
    with app.app_context():
        reserving.release(lookups.order_by_token(a), actor="test")
    assert _line_figures(client) == [("open", 1, 1, 0)]  # free, but not the public's


def test_the_line_state_is_shown_so_apps_know_whether_they_may_join(app, client, sold_out, join, table_counts):
    ga, _ = sold_out
    with app.app_context():
        waitlist.set_state(db.session.get(TicketType, ga), "paused")
    assert _line_figures(client) == [("paused", 0, 0, 0)]  # the shared availability answer follows at once

    refused = join("w@example.test", ga)

    assert _refusal(refused) == (409, "conflict") and "paused" in refused.json["error"]["message"]
    assert _entries(app) == []


def test_leaving_ends_the_place_and_is_idempotent(app, client, sold_out, join):
    ga, _ = sold_out
    token = join("w@example.test", ga).json["token"]

    left = client.delete(f"{API}/waitlist/{token}")
    again = client.delete(f"{API}/waitlist/{token}")

    assert left.status_code == 200 and left.headers["Cache-Control"] == "no-store"
    assert (left.json["state"], left.json["position"], left.json["people_waiting"]) == ("left", None, 0)
    assert set(left.json["links"]) == {"self", "page"}  # nothing more to do with it
    assert again.status_code == 200 and again.json["state"] == "left"
    assert client.get(f"{API}/waitlist/{token}").json["state"] == "left"
    assert _line_figures(client) == [("open", 0, 0, 0)]
    assert _entries(app) == [("w@example.test", "left")]
    assert join("w@example.test", ga).status_code == 201  # and may queue again, at the back


def test_unknown_places_are_404(client, sold_out):
    for method in ("get", "delete"):
        assert _refusal(getattr(client, method)(f"{API}/waitlist/not-a-token")) == (404, "not_found")
    response = client.get(f"{API}/waitlist/bad%00token")
    assert response.status_code == 404 and response.is_json


# --- the offer --------------------------------------------------------------------

def test_an_offer_shows_on_the_place_with_its_reservation_and_lapses_there(app, client, sold_out, join, frozen,
                                                                           table_counts):
    ga, [a, _] = sold_out
    token = join("w@example.test", ga).json["token"]
    behind = join("behind@example.test", ga, 2).json["token"]
    frozen.advance(timedelta(minutes=1))
    with app.app_context():
        reserving.release(lookups.order_by_token(a), actor="test")
        [offer] = waitlist.serve(ga)
        offer_token = offer.token

    place = client.get(f"{API}/waitlist/{token}").json

    assert (place["state"], place["position"], place["people_waiting"]) == ("offered", None, 1)
    assert place["held_by_others"] == 1  # b's hold; the offer is this buyer's own
    assert place["offer"] == {
        "token": offer_token, "quantity": 1, "reservation_status": "held",
        "expires_at": (frozen.now() + timedelta(minutes=10)).isoformat(), "seconds_left": 600,
        "links": {"reservation": {"href": f"{API}/reservations/{offer_token}", "method": "GET"},
                  "page": {"href": f"/r/{offer_token}", "method": "GET"}}}
    assert set(place["links"]) == {"self", "page"}  # an offer is released on its reservation, not left
    assert client.get(f"{API}/waitlist/{behind}").json["position"] == 1
    reservation = client.get(place["offer"]["links"]["reservation"]["href"]).json
    assert (reservation["reservation_status"], reservation["email"]) == ("held", "w@example.test")
    assert {"checkout", "release"} <= set(reservation["links"])

    before = table_counts()
    refused = client.delete(f"{API}/waitlist/{token}")
    assert _refusal(refused) == (409, "conflict") and "offer" in refused.json["error"]["message"]
    assert table_counts() == before and ("w@example.test", "offered") in _entries(app)

    frozen.advance(timedelta(minutes=10))  # not taken: lapsed at its instant, before any job runs
    place = client.get(f"{API}/waitlist/{token}").json
    assert (place["state"], place["offer"]["reservation_status"], place["offer"]["seconds_left"]) == (
        "offer_lapsed", "expired", 0)


def test_a_paid_offer_reads_bought(app, client, sold_out, join):
    ga, [a, _] = sold_out
    token = join("w@example.test", ga).json["token"]
    with app.app_context():
        reserving.release(lookups.order_by_token(a), actor="test")
        [offer] = waitlist.serve(ga)
        assert paying.confirm_payment(offer.id, reason="paid", actor="test")

    place = client.get(f"{API}/waitlist/{token}").json

    assert (place["state"], place["offer"]["reservation_status"]) == ("bought", "confirmed")


def test_a_public_buyer_cannot_reserve_a_ticket_promised_to_the_line(client, sold_out, join, reserve, frozen,
                                                                    table_counts):
    ga, _ = sold_out
    join("w@example.test", ga)
    frozen.advance(timedelta(minutes=15))  # both holds lapse at this instant; no job has run
    assert _line_figures(client) == [("open", 1, 1, 1)]
    assert reserve("gig", [(ga, 1)], "public1@example.test").status_code == 201  # the one nobody waits for
    before = table_counts()

    refused = reserve("gig", [(ga, 1)], "public2@example.test")

    assert _refusal(refused) == (409, "waiting_list")
    assert refused.json["error"]["fields"] == {"items": "1 person is on the waiting list: tickets that come back "
                                                        "go to them first."}
    assert "Retry-After" not in refused.headers
    assert table_counts() == before


# --- refusals to join --------------------------------------------------------------

@pytest.mark.parametrize("body, fields", [
    (None, {"body"}),
    ([1, 2], {"body"}),
    ({"ticket_type_id": 1, "quantity": 1}, {"email"}),
    ({"ticket_type_id": 1, "quantity": 1, "email": 7}, {"email"}),
    ({"ticket_type_id": 1, "quantity": 1, "email": "nobody"}, {"email"}),
    ({"ticket_type_id": 1, "quantity": 1, "email": "a\x00@b.test"}, {"email"}),
    ({"quantity": 1, "email": "a@b.test"}, {"ticket_type_id"}),
    ({"ticket_type_id": True, "quantity": 1, "email": "a@b.test"}, {"ticket_type_id"}),
    ({"ticket_type_id": "1", "quantity": 1, "email": "a@b.test"}, {"ticket_type_id"}),
    ({"ticket_type_id": 2**31, "quantity": 1, "email": "a@b.test"}, {"ticket_type_id"}),
    ({"ticket_type_id": 1, "email": "a@b.test"}, {"quantity"}),
    ({"ticket_type_id": 1, "quantity": 0, "email": "a@b.test"}, {"quantity"}),
    ({"ticket_type_id": 1, "quantity": 1.5, "email": "a@b.test"}, {"quantity"}),
    ({"ticket_type_id": 1, "quantity": 1, "email": "a@b.test", "seat": "A1"}, {"seat"}),
    ({"ticket_type_id": "x", "quantity": None, "email": 1, "extra": 0}, {"ticket_type_id", "quantity", "email",
                                                                          "extra"}),
    ({"ticket_type_id": 1, "quantity": 5, "email": "a@b.test"}, {"quantity"}),  # per-order limit 4
])
def test_invalid_joins_are_422_per_field_and_change_nothing(app, client, sold_out, table_counts, body, fields):
    before = table_counts()

    response = client.post(f"{API}/events/gig/waitlist", json=body)

    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields and all(error["fields"].values())
    assert table_counts() == before and _entries(app) == []


def test_joining_is_refused_with_its_code_and_changes_nothing(app, client, sold_out, join, make_event, frozen,
                                                               table_counts):
    ga, _ = sold_out
    _, [open_, early] = make_event({"name": "Open", "capacity": 5},
                                   {"name": "Early", "capacity": 5, "sales_end": frozen.now() - timedelta(days=1)},
                                   slug="other")
    make_event(slug="draft", published=False)
    join("w@example.test", ga)
    before = (table_counts(), _entries(app))

    twice = join("W@example.test ", ga, 2)
    available = join("x@example.test", open_, slug="other")

    assert _refusal(twice) == (409, "already_waiting") and twice.json["error"]["fields"]["email"]
    assert "w@example.test is already on the waiting list" in twice.json["error"]["message"]
    assert _refusal(available) == (409, "conflict") and "reserve them instead" in available.json["error"]["message"]
    assert _refusal(join("x@example.test", early, slug="other")) == (409, "sales_closed")
    assert _refusal(join("x@example.test", open_)) == (404, "not_found")  # another event's ticket type
    for slug in ("draft", "nope"):
        assert _refusal(join("x@example.test", ga, slug=slug)) == (404, "not_found")
    form = client.post(f"{API}/events/gig/waitlist", data="email=x@example.test",
                       content_type="application/x-www-form-urlencoded")
    assert _refusal(form) == (415, "unsupported_media_type")
    assert (table_counts(), _entries(app)) == before


def test_joining_spends_the_reservation_budget_except_when_malformed(app, make_event):
    make_event({"name": "GA", "capacity": 1}, slug="gig")
    limited = create_app({  # the suite's app runs with limits off
        **{key: app.config[key] for key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL")},
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0},
        "RATELIMIT_ENABLED": True, "RESERVE_RATE_LIMIT": "2/hour",
    })
    limited.extensions["limiter"].reset()
    client = limited.test_client()
    address = {"environ_base": {"REMOTE_ADDR": "10.0.0.9"}}

    def post(path: str, body: dict) -> int:
        return client.post(f"{API}/events/gig/{path}", json=body, **address).status_code

    try:
        reserved = post("reservations", {"email": "a@example.test", "items": [{"ticket_type_id": 1, "quantity": 1}]})
        malformed = [post("waitlist", {"ticket_type_id": 1, "quantity": 0, "email": "w@example.test"})
                     for _ in range(3)]
        joined = post("waitlist", {"ticket_type_id": 1, "quantity": 1, "email": "w@example.test"})
        over = client.post(f"{API}/events/gig/waitlist", json={"ticket_type_id": 1, "quantity": 1,
                                                                "email": "v@example.test"}, **address)
    finally:
        limited.extensions["limiter"].reset()
        with limited.app_context():
            db.engine.dispose()

    assert (reserved, malformed, joined) == (201, [422, 422, 422], 201)
    assert _refusal(over) == (429, "too_many_requests") and int(over.headers["Retry-After"]) > 0
    assert _entries(app) == [("w@example.test", "waiting")]


# --- renewing a hold -------------------------------------------------------------

def test_a_hold_is_renewable_in_its_last_minutes_and_renewing_moves_its_end(app, client, make_event, reserve,
                                                                          frozen, table_counts):
    _, [ga] = make_event({"name": "GA", "capacity": 5}, max_renewals=1)
    body = reserve("rush", [(ga, 1)]).json
    token, ends = body["token"], frozen.now() + timedelta(minutes=15)
    assert (body["renewals"], body["renewals_left"], body["renewable"]) == (0, 1, False)
    assert "renew" not in body["links"]

    early = client.post(f"{API}/reservations/{token}/renewal")
    assert _refusal(early) == (409, "not_renewable") and "last 3 minutes" in early.json["error"]["message"]
    assert client.get(f"{API}/reservations/{token}").json["expires_at"] == ends.isoformat()

    frozen.advance(timedelta(minutes=12, seconds=30))
    body = client.get(f"{API}/reservations/{token}").json
    assert body["renewable"] is True
    assert body["links"]["renew"] == {"href": f"{API}/reservations/{token}/renewal", "method": "POST"}

    renewed = client.post(f"{API}/reservations/{token}/renewal")

    assert renewed.status_code == 200 and renewed.headers["Cache-Control"] == "no-store"
    body = renewed.json
    assert body["expires_at"] == (ends + timedelta(minutes=5)).isoformat() and body["seconds_left"] == 450
    assert (body["renewals"], body["renewals_left"], body["renewable"]) == (1, 0, False)
    with app.app_context():
        last = lookups.order_by_token(token).history[-1]
        assert (last.actor, last.reason.endswith("(1 of 1)")) == ("buyer:api", True)

    frozen.advance(timedelta(minutes=6))  # in the last minutes again, with no renewal left
    body = client.get(f"{API}/reservations/{token}").json
    assert (body["renewable"], "renew" in body["links"]) == (False, False)
    before = table_counts()
    spent = client.post(f"{API}/reservations/{token}/renewal")
    assert _refusal(spent) == (409, "not_renewable") and "as often as" in spent.json["error"]["message"]
    assert table_counts() == before


def test_a_renewal_is_refused_while_someone_waits_and_changes_nothing(app, client, sold_out, join, frozen,
                                                                    table_counts):
    ga, [a, _] = sold_out
    join("w@example.test", ga)
    frozen.advance(timedelta(minutes=13))
    before = (table_counts(), client.get(f"{API}/reservations/{a}").json["expires_at"])

    refused = client.post(f"{API}/reservations/{a}/renewal")

    assert _refusal(refused) == (409, "not_renewable")
    assert "Other buyers are waiting" in refused.json["error"]["message"]
    assert (table_counts(), client.get(f"{API}/reservations/{a}").json["expires_at"]) == before


def test_a_lapsed_paid_or_unknown_hold_is_not_renewed(app, client, make_event, reserve, frozen, table_counts):
    _, [ga] = make_event({"name": "GA", "capacity": 5})
    lapsed = reserve("rush", [(ga, 1)]).json["token"]
    paid = reserve("rush", [(ga, 1)], "payer@example.test").json["token"]
    with app.app_context():
        assert paying.confirm_payment(lookups.order_by_token(paid).id, reason="paid", actor="test")
    frozen.advance(timedelta(minutes=13))
    paid_body = client.get(f"{API}/reservations/{paid}").json
    assert (paid_body["renewable"], "renew" in paid_body["links"]) == (False, False)
    frozen.advance(timedelta(minutes=2))
    before = table_counts()

    assert _refusal(client.post(f"{API}/reservations/{lapsed}/renewal")) == (409, "hold_expired")
    assert _refusal(client.post(f"{API}/reservations/{paid}/renewal")) == (409, "not_reserved")
    assert _refusal(client.post(f"{API}/reservations/not-a-token/renewal")) == (404, "not_found")
    assert table_counts() == before

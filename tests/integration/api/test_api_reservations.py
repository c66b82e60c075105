"""Reserving, reading, releasing and checking out through the API."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from eventsite.domain.models import Event, Order, OrderStatus
from eventsite.infra.db import db
from eventsite.readmodels import lookups
from eventsite.services import paying, reserving

API = "/api/v1"


def _hold(app, event_id: int, quantities: dict[int, int], email: str = "page@example.test") -> str:
    """A hold placed the way the pages place it, straight through the domain."""
    with app.app_context():
        return reserving.reserve(db.session.get(Event, event_id).slug, quantities, email).token


def _refusal(response) -> tuple[int, str]:
    return response.status_code, response.json["error"]["code"]


def _order(app, token: str) -> Order:
    with app.app_context():
        order = lookups.order_by_token(token)
        db.session.expunge(order)
        return order


def test_reserve_returns_the_hold_with_countdown_and_links(app, make_event, reserve, frozen):
    _, (ga, vip) = make_event({"name": "GA", "capacity": 10, "price": 2500},
                              {"name": "VIP", "capacity": 2, "price": 9000})

    response = reserve("rush", [(ga, 2), (vip, 1)])

    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"{API}/reservations/{body['token']}"
    assert body["status"] == "reserved" and body["reservation_status"] == "held"
    assert body["expires_at"] == (frozen.now() + timedelta(minutes=15)).isoformat()
    assert body["seconds_left"] == 900
    assert body["total"] == 2 * 2500 + 9000 and body["currency"] == "EUR"
    assert [(i["ticket_type_id"], i["quantity"], i["subtotal"]) for i in body["items"]] == [
        (ga, 2, 5000), (vip, 1, 9000)]
    assert body["payment"] == {"state": "none", "checkout_url": None, "error": None}
    assert body["links"]["release"] == {"href": f"{API}/reservations/{body['token']}", "method": "DELETE"}
    assert body["links"]["checkout"]["href"] == f"{API}/reservations/{body['token']}/checkout"
    stored = _order(app, body["token"])
    assert stored.email == "buyer@example.test" and stored.status == OrderStatus.RESERVED


def test_the_last_ticket_goes_to_the_api_then_all_reserved_says_when_to_retry(
        app, client, make_event, reserve, frozen):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    _hold(app, event_id, {ga: 1})  # a buyer on the event page holds one
    frozen.advance(timedelta(minutes=5))

    last = reserve("rush", [(ga, 1)])
    assert last.status_code == 201

    refused = reserve("rush", [(ga, 1)], email="late@example.test")
    assert refused.status_code == 409
    error = refused.json["error"]
    assert error["code"] == "all_reserved"
    assert error["retry_after"] == 10 * 60  # the page's hold lapses 15 minutes after it was placed
    assert refused.headers["Retry-After"] == "600"
    assert error["fields"] == {"items": error["message"]}

    frozen.advance(timedelta(minutes=10))  # the page's hold lapses; no job has to run
    assert reserve("rush", [(ga, 1)], email="late@example.test").status_code == 201
    figures = client.get(f"{API}/events/rush/availability").json["ticket_types"][0]
    assert (figures["held"], figures["available"]) == (2, 0)


def test_sold_out_and_sales_closed_are_409_with_their_codes(app, make_event, reserve, table_counts, frozen):
    event_id, (ga, early) = make_event(
        {"name": "GA", "capacity": 1},
        {"name": "Early bird", "capacity": 5, "sales_end": frozen.now() - timedelta(days=1)},
    )
    token = _hold(app, event_id, {ga: 1})
    with app.app_context():
        assert paying.confirm_payment(_order(app, token).id, reason="paid", actor="test")
    before = table_counts()

    sold_out = reserve("rush", [(ga, 1)])
    closed = reserve("rush", [(early, 1)])

    assert _refusal(sold_out) == (409, "sold_out")
    assert "Retry-After" not in sold_out.headers and "retry_after" not in sold_out.json["error"]
    assert _refusal(closed) == (409, "sales_closed")
    assert table_counts() == before


@pytest.mark.parametrize("body, fields", [
    (None, {"body"}),
    ([1, 2], {"body"}),
    ({"items": [{"ticket_type_id": 1, "quantity": 1}]}, {"email"}),
    ({"email": 7, "items": [{"ticket_type_id": 1, "quantity": 1}]}, {"email"}),
    ({"email": "nobody", "items": [{"ticket_type_id": 1, "quantity": 1}]}, {"email"}),
    ({"email": "a\x00@b.test", "items": [{"ticket_type_id": 1, "quantity": 1}]}, {"email"}),
    ({"email": "a@b.test"}, {"items"}),
    ({"email": "a@b.test", "items": []}, {"items"}),
    ({"email": "a@b.test", "items": {"1": 1}}, {"items"}),
    ({"email": "a@b.test", "items": ["1"]}, {"items[0]"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": 1}]}, {"items[0].quantity"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": 1, "quantity": 0}]}, {"items[0].quantity"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": 1, "quantity": "2"}]}, {"items[0].quantity"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": 1, "quantity": 1.5}]}, {"items[0].quantity"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": True, "quantity": 1}]}, {"items[0].ticket_type_id"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": 1, "quantity": 1, "seat": "A1"}]}, {"items[0].seat"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": 1, "quantity": 1}, {"ticket_type_id": 1, "quantity": 2}]},
     {"items[1].ticket_type_id"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": 1, "quantity": 1}], "coupon": "X"}, {"coupon"}),
    ({"email": 1, "items": "x", "extra": 0}, {"email", "items", "extra"}),
    ({"email": "a@b.test", "items": [{"ticket_type_id": 1, "quantity": 11}]}, {"items"}),  # per-order limit 10
    ({"email": "a@b.test", "items": [{"ticket_type_id": 3, "quantity": 1}]}, {"items"}),  # another event's type
])
def test_invalid_reservations_are_422_per_field_and_change_nothing(client, make_event, table_counts, body, fields):
    make_event({"name": "GA", "capacity": 10}, {"name": "VIP", "capacity": 2})  # ticket types 1 and 2
    make_event({"name": "Other", "capacity": 10}, slug="other")  # ticket type 3
    before = table_counts()

    response = client.post(f"{API}/events/rush/reservations", json=body)

    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields and all(error["fields"].values())
    assert table_counts() == before


def test_a_huge_quantity_is_told_the_per_order_limit(client, make_event, table_counts):
    make_event({"name": "GA", "capacity": 10})
    before = table_counts()
    response = client.post(f"{API}/events/rush/reservations",
                           json={"email": "a@b.test", "items": [{"ticket_type_id": 1, "quantity": 10**12}]})
    assert response.status_code == 422 and response.json["error"]["fields"] == {
        "items": "At most 10 GA tickets per order."}
    assert table_counts() == before


def test_a_body_that_is_not_json_is_refused(client, make_event, table_counts):
    make_event()
    form = client.post(f"{API}/events/rush/reservations", data="email=a@b.test",
                       content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and form.json["error"]["code"] == "unsupported_media_type"
    broken = client.post(f"{API}/events/rush/reservations", data="email=a@b.test", content_type="application/json")
    assert broken.status_code == 422 and set(broken.json["error"]["fields"]) == {"body"}
    assert table_counts() == (0, 0, 0)


def test_reserving_for_an_unknown_or_unpublished_event_is_404(make_event, reserve, table_counts):
    _, (tt,) = make_event(published=False, slug="draft")
    for slug in ("draft", "nope"):
        response = reserve(slug, [(tt, 1)])
        assert _refusal(response) == (404, "not_found")
    assert table_counts() == (0, 0, 0)


def test_reading_a_reservation_follows_the_countdown_to_expiry(client, make_event, reserve, frozen):
    _, (ga,) = make_event()
    token = reserve("rush", [(ga, 1)]).json["token"]

    frozen.advance(timedelta(seconds=100))
    body = client.get(f"{API}/reservations/{token}").json
    assert (body["reservation_status"], body["seconds_left"]) == ("held", 800)

    frozen.advance(timedelta(seconds=800))
    body = client.get(f"{API}/reservations/{token}").json
    # Lapsed at expires_at: shown expired in both fields, though no sweep has marked it yet.
    assert (body["status"], body["reservation_status"], body["seconds_left"]) == ("expired", "expired", 0)


def test_unknown_tokens_are_404_everywhere(client, make_event, reserve):
    _, (ga,) = make_event()
    reserve("rush", [(ga, 1)])
    for method, path in (("get", ""), ("delete", ""), ("post", "/checkout")):
        assert _refusal(getattr(client, method)(f"{API}/reservations/not-a-token{path}")) == (404, "not_found")
    response = client.get(f"{API}/reservations/bad%00token")
    assert response.status_code == 404 and response.is_json


def test_release_gives_the_tickets_back_and_is_idempotent(app, client, make_event, reserve):
    _, (ga,) = make_event({"name": "GA", "capacity": 1})
    token = reserve("rush", [(ga, 1)]).json["token"]
    assert client.get(f"{API}/events/rush/availability").json["ticket_types"][0]["available"] == 0

    released = client.delete(f"{API}/reservations/{token}")
    again = client.delete(f"{API}/reservations/{token}")

    assert released.status_code == 200 and released.json["status"] == "cancelled"
    assert released.json["reservation_status"] == "released"
    # nothing more can be done with it, so nothing more is offered
    assert set(released.json["links"]) == {"self"} and set(client.get(f"{API}/reservations/{token}").json["links"]) == {
        "self"}
    assert again.status_code == 200
    assert client.get(f"{API}/events/rush/availability").json["ticket_types"][0]["available"] == 1
    with app.app_context():
        history = [(e.to_status, e.actor) for e in lookups.order_by_token(token).history]
    assert history == [("reserved", "buyer:buyer@example.test"), ("cancelled", "buyer:api")]


def test_release_refuses_a_lapsed_or_paid_hold(app, client, make_event, reserve, table_counts, frozen):
    event_id, (ga,) = make_event()
    lapsed = reserve("rush", [(ga, 1)]).json["token"]
    frozen.advance(timedelta(minutes=10))
    paid = reserve("rush", [(ga, 1)], "payer@example.test").json["token"]
    with app.app_context():
        paying.confirm_payment(_order(app, paid).id, reason="paid", actor="test")
    frozen.advance(timedelta(minutes=6))
    before = table_counts()

    assert _refusal(client.delete(f"{API}/reservations/{lapsed}")) == (409, "hold_expired")
    assert _refusal(client.delete(f"{API}/reservations/{paid}")) == (409, "conflict")
    assert table_counts() == before
    assert _order(app, paid).status == OrderStatus.CONFIRMED


def test_checkout_starts_the_payment_job_and_the_reservation_shows_where_to_pay(
        live_server, make_event, devstripe, run_jobs):
    _, (ga,) = make_event({"name": "GA", "capacity": 3})
    http = requests.Session()
    body = {"email": "app@example.test", "items": [{"ticket_type_id": ga, "quantity": 2}]}
    token = http.post(f"{live_server}{API}/events/rush/reservations", json=body, timeout=10).json()["token"]

    started = http.post(f"{live_server}{API}/reservations/{token}/checkout", timeout=10)

    assert started.status_code == 202
    assert started.headers["Location"].endswith(f"{API}/reservations/{token}")
    assert started.json()["payment"]["state"] == "none"  # the job has not run yet
    run_jobs("default")
    polled = http.get(f"{live_server}{API}/reservations/{token}", timeout=10).json()
    assert (polled["status"], polled["reservation_status"]) == ("payment_processing", "held")
    assert polled["payment"]["state"] == "awaiting_payment"
    [session] = devstripe.state()["sessions"]
    assert polled["payment"]["checkout_url"] == session["url"] and session["client_reference_id"] == token


def test_checkout_refuses_holds_that_cannot_be_paid(app, client, make_event, reserve, table_counts, frozen):
    _, (ga,) = make_event()
    lapsed = reserve("rush", [(ga, 1)]).json["token"]
    released = reserve("rush", [(ga, 1)], "releaser@example.test").json["token"]
    client.delete(f"{API}/reservations/{released}")
    frozen.advance(timedelta(minutes=15))
    before = table_counts()

    assert _refusal(client.post(f"{API}/reservations/{lapsed}/checkout")) == (409, "hold_expired")
    assert _refusal(client.post(f"{API}/reservations/{released}/checkout")) == (409, "not_reserved")
    assert table_counts() == before


def test_concurrent_buyers_over_http_never_share_the_last_ticket(live_server, make_event, table_counts):
    _, (ga,) = make_event({"name": "GA", "capacity": 1})
    url = f"{live_server}{API}/events/rush/reservations"
    barrier = threading.Barrier(6)

    def buy(n: int) -> int:
        barrier.wait()
        body = {"email": f"b{n}@example.test", "items": [{"ticket_type_id": ga, "quantity": 1}]}
        return requests.post(url, json=body, timeout=30).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(buy, range(6)))

    assert statuses == [201, 409, 409, 409, 409, 409]
    assert table_counts()[0] == 1

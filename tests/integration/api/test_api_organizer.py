"""Organizer endpoints behind per-organizer bearer tokens, and the token command."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventsite.domain.models import Event, Organizer
from eventsite.infra.db import db
from eventsite.services import paying, reserving

API = "/api/v1"


def test_api_token_command_prints_a_token_once_and_rotates_it(app, client, make_event):
    make_event()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["organizer", "api-token", "org@example.test"])
    second = runner.invoke(args=["organizer", "api-token", "ORG@example.test"])

    assert first.exit_code == 0 and second.exit_code == 0
    old, new = first.output.strip(), second.output.strip()
    assert len(new) >= 40 and old != new
    with app.app_context():
        stored = db.session.scalars(select(Organizer.api_token_hash)).one()
    assert stored == hashlib.sha256(new.encode()).hexdigest()  # only the hash is kept
    assert client.get(f"{API}/organizer/events", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    assert client.get(f"{API}/organizer/events", headers={"Authorization": f"Bearer {old}"}).status_code == 401


def test_api_token_command_refuses_an_unknown_email(app):
    result = app.test_cli_runner().invoke(args=["organizer", "api-token", "ghost@example.test"])
    assert result.exit_code == 2
    assert "no organizer with email 'ghost@example.test'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer wrong-token", "Basic b3JnOnB3"])
def test_organizer_endpoints_need_a_valid_token(client, make_event, organizer_token, authorization):
    make_event()
    organizer_token()
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/organizer/events", "/organizer/events/rush/figures", "/organizer/events/rush/orders"):
        response = client.get(API + path, headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_a_token_sees_only_its_organizers_events(client, make_event, organizer_token):
    make_event(slug="mine")
    make_event(slug="draft", published=False)
    make_event(slug="theirs", organizer_email="other@example.test")
    auth = organizer_token()

    listed = client.get(f"{API}/organizer/events", headers=auth).json["events"]
    assert [(e["slug"], e["published"]) for e in listed] == [("mine", True), ("draft", False)]
    assert client.get(f"{API}/organizer/events/draft/figures", headers=auth).status_code == 200
    for path in ("figures", "orders"):
        response = client.get(f"{API}/organizer/events/theirs/{path}", headers=auth)
        assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")


def test_figures_count_sold_held_available_orders_and_revenue(app, client, make_event, organizer_token, frozen):
    event_id, (ga, vip) = make_event({"name": "GA", "capacity": 10, "price": 2500},
                                     {"name": "VIP", "capacity": 2, "price": 9000})
    with app.app_context():
        event = db.session.get(Event, event_id)
        paid = reserving.reserve(event.slug, {ga: 2, vip: 1}, "paid@example.test")
        paying.confirm_payment(paid.id, reason="paid", actor="test")
        reserving.reserve(event.slug, {ga: 3}, "holding@example.test")
        released = reserving.reserve(event.slug, {vip: 1}, "gone@example.test")
        reserving.release(released, actor="test")

    figures = client.get(f"{API}/organizer/events/rush/figures", headers=organizer_token()).json

    assert [(t["name"], t["capacity"], t["sold"], t["held"], t["available"]) for t in figures["ticket_types"]] == [
        ("GA", 10, 2, 3, 5), ("VIP", 2, 1, 0, 1)]
    assert figures["orders_by_status"] == {"reserved": 1, "payment_processing": 0, "confirmed": 1, "expired": 0,
                                           "cancelled": 1, "refunded": 0}
    assert figures["revenue"] == {"EUR": 2 * 2500 + 9000}
    assert figures["at"] == frozen.now().isoformat()


def test_orders_filter_by_status_and_email_and_page(app, client, make_event, organizer_token, frozen):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 100})
    with app.app_context():
        event = db.session.get(Event, event_id)
        for n in range(52):
            frozen.advance(timedelta(seconds=1))
            order = reserving.reserve(event.slug, {ga: 1}, f"buyer{n}@example.test" if n else "Ann_Smith@Mail.test")
            if n % 2:
                reserving.release(order, actor="test")
    auth = organizer_token()
    url = f"{API}/organizer/events/rush/orders"

    first = client.get(url, headers=auth).json
    assert (first["total"], first["page"], first["per_page"], len(first["orders"])) == (52, 1, 50, 50)
    assert first["orders"][0]["email"] == "buyer51@example.test"  # newest first
    assert first["next"] == f"{url}?page=2"
    second = client.get(first["next"], headers=auth).json
    # stored as normalized: the domain lower-cased, the local part as typed
    assert [o["email"] for o in second["orders"]] == ["buyer1@example.test", "Ann_Smith@mail.test"]
    assert second["next"] is None

    cancelled = client.get(url, headers=auth, query_string={"status": "cancelled"}).json
    assert cancelled["total"] == 26 and {o["status"] for o in cancelled["orders"]} == {"cancelled"}
    # Case-insensitive part of the address; "_" is a literal, not a LIKE wildcard.
    assert [o["email"] for o in client.get(url, headers=auth, query_string={"email": "ann_smith"}).json["orders"]] == [
        "Ann_Smith@mail.test"]
    assert client.get(url, headers=auth, query_string={"email": "buyer_"}).json["total"] == 0
    order = client.get(url, headers=auth, query_string={"email": "buyer5@"}).json["orders"][0]
    assert (order["status"], order["reservation_status"], order["total"]) == ("cancelled", "released", 1000)
    assert "token" not in order and isinstance(order["id"], int)


@pytest.mark.parametrize("query, field", [
    ({"status": "paid"}, "status"), ({"page": "0"}, "page"), ({"page": "two"}, "page"),
    ({"page": "-1"}, "page"), ({"email": "a\x00b"}, "email"), ({"stauts": "confirmed"}, "stauts"),
])
def test_orders_query_is_validated(client, make_event, organizer_token, query, field):
    make_event()
    response = client.get(f"{API}/organizer/events/rush/orders", headers=organizer_token(), query_string=query)
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == [field]

"""A hold that lapsed, before any job has run, is expired everywhere at its instant:
organizer pages and filters, the CSV, the organizer API's figures and orders, the
buyer's API answer; and releasing it is refused alike in shop, API and dashboard."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from dashboard_helpers import post
from shop_support import csrf_from

from eventsite.domain.models import Order, OrderStatus
from eventsite.infra.db import db

API = "/api/v1"


@pytest.fixture
def lapsed(app, frozen, world):
    """The world's GA hold (placed on the frozen clock), 16 minutes later: lapsed, still
    stored as reserved (no sweep ran). Tests name it first, so the clock freezes first."""
    frozen.advance(timedelta(minutes=16))
    with app.app_context():
        order = db.session.get(Order, world.held_order_id)
        assert order.status == OrderStatus.RESERVED
        return order.token


def test_organizer_pages_filters_and_csv_show_it_expired(lapsed, world, owner):
    base = f"/dashboard/events/{world.event_id}"
    page = owner.get(f"{base}/orders/{world.held_order_id}").get_data(as_text=True)
    assert '<span class="status status-expired">expired</span>' in page and "Release hold" not in page
    expired = owner.get(f"{base}/orders?status=expired").get_data(as_text=True)
    reserved = owner.get(f"{base}/orders?status=reserved").get_data(as_text=True)
    assert f"/orders/{world.held_order_id}\"" in expired and f"/orders/{world.held_order_id}\"" not in reserved
    rows = {r["order_id"]: r for r in csv.DictReader(io.StringIO(owner.get(f"{base}/exports/orders.csv")
                                                                   .get_data(as_text=True)))}
    assert rows[str(world.held_order_id)]["status"] == "expired"


def test_the_organizer_api_and_the_buyer_api_agree(lapsed, client, world, organizer_token):
    auth = organizer_token("owner@example.test")
    figures = client.get(f"{API}/organizer/events/owned/figures", headers=auth).json
    assert figures["orders_by_status"]["reserved"] == 0 and figures["orders_by_status"]["expired"] == 1
    assert figures["ticket_types"][0]["held"] == 0
    listed = client.get(f"{API}/organizer/events/owned/orders?status=expired", headers=auth).json
    assert [o["id"] for o in listed["orders"]] == [world.held_order_id] and listed["orders"][0]["status"] == "expired"
    assert client.get(f"{API}/organizer/events/owned/orders?status=reserved", headers=auth).json["total"] == 0
    mine = client.get(f"{API}/reservations/{lapsed}").json
    assert (mine["status"], mine["reservation_status"], mine["payment"]["state"]) == ("expired", "expired", "none")


def test_releasing_it_is_refused_everywhere_and_changes_nothing(lapsed, app, client, world, owner, snapshot):
    before = snapshot()
    api = client.delete(f"{API}/reservations/{lapsed}")
    assert api.status_code == 409 and api.json["error"]["code"] == "hold_expired"
    dashboard = post(owner, f"/dashboard/events/{world.event_id}/orders/{world.held_order_id}/release")
    assert dashboard.status_code == 409 and "this order is expired" in dashboard.get_data(as_text=True)
    buyer = app.test_client()
    page = buyer.get(f"/r/{lapsed}").get_data(as_text=True)
    shop = buyer.post(f"/r/{lapsed}/release", data={"csrf_token": csrf_from(page)}, headers={"HX-Request": "true"})
    assert shop.status_code == 200 and "Your reservation expired" in shop.get_data(as_text=True)
    assert snapshot() == before

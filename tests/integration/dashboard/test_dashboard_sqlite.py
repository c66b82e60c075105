"""The embedded default: the dashboard's SQL (figures, chart buckets, filters, exports) on SQLite too."""
from __future__ import annotations

import re
from datetime import timedelta

from dashboard_helpers import add_organizer, pay, post, reserve, sign_in, sqlite_app

from eventsite.infra.db import db
from eventsite.readmodels import availability, chart


def test_dashboard_on_sqlite(tmp_path, frozen):
    app = sqlite_app(tmp_path)
    with app.app_context():
        add_organizer("solo@example.test")
    client = app.test_client()
    assert sign_in(client, "solo@example.test").status_code == 302
    event = {"title": "Small", "slug": "small", "timezone": "UTC", "starts_at": "2026-07-01T20:00",
             "hold_minutes": "15", "pending_payment_hours": "72", "currency": "EUR", "locale": "en", "published": "y"}
    ticket_type = {"name": "GA", "price": "10", "capacity": "10", "per_order_limit": "5"}
    assert post(client, "/dashboard/events/new", event).status_code == 302
    assert post(client, "/dashboard/events/1/ticket-types/new", ticket_type).status_code == 302
    with app.app_context():
        lapsing = reserve(1, {1: 3}, "late@example.test").id
        frozen.advance(timedelta(hours=1, minutes=30))
        paid = reserve(1, {1: 2}, "paid@example.test").id
        pay(paid)
        reserve(1, {1: 1}, "live@example.test")
        shop = availability.figures(1)[1]
        series = chart.series(1)
    assert (shop.sold, shop.held, shop.available) == (2, 1, 7)
    assert len(series.instants) == 91  # minute by minute, 12:00 to 13:30
    at = [0, 14, 15, 90]  # 12:00, 12:14, 12:15 (the first hold lapses), 13:30
    assert [(series.sold[m], series.held[m], series.lapsed[m]) for m in at] == [
        (0, 3, 0), (0, 3, 0), (0, 0, 3), (2, 1, 3)]

    live = client.get("/dashboard/events/1/live").get_data(as_text=True)
    total_row = live.split('data-row="Total"')[1]
    figures = dict(re.findall(r'data-figure="([a-z-]+)">([^<]*)<', total_row))
    assert (figures["sold"], figures["held"], figures["available"], figures["expired"].strip()) == ("2", "1", "7", "3")
    assert figures["revenue"] == "€20.00"

    # The lapsed hold is still stored as reserved (no sweep ran) and is listed as what it is: expired.
    listed = client.get("/dashboard/events/1/orders?status=expired&email=LATE").get_data(as_text=True)
    assert re.findall(r"/orders/(\d+)\"", listed) == [str(lapsing)]
    reserved = client.get("/dashboard/events/1/orders?status=reserved&email=LATE").get_data(as_text=True)
    assert re.findall(r"/orders/(\d+)\"", reserved) == []
    attendees = client.get("/dashboard/events/1/exports/attendees.csv").get_data(as_text=True).splitlines()
    assert len(attendees) == 1 + 2
    refused = post(client, "/dashboard/events/1/ticket-types/1/edit", {**ticket_type, "capacity": "2"})
    assert refused.status_code == 409
    assert "Capacity cannot go below 3: 2 sold and 1 held right now." in refused.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()

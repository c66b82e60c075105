"""Fixtures for the tickets tests: an event in New York with two ticket types, and an order for
three of its seats confirmed the real way (reserve, Pay now, the dev Stripe server, its webhook)."""
from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from eventsite.domain.models import Event, Order, OrderStatus
from eventsite.infra.db import db
from eventsite.readmodels.tickets import tickets

STARTS = datetime(2030, 12, 16, 0, 30, tzinfo=UTC)  # Sun 15 Dec 2030, 19:30 EST
ENDS = datetime(2030, 12, 16, 3, 0, tzinfo=UTC)  # 22:00 EST
WHEN = "Sun 15 Dec 2030, 19:30 EST (America/New_York)"
TITLE = "Winter Gala — Zürich Strings"
VENUE = "Carnegie Hall, 881 7th Ave, New York"


@pytest.fixture
def gala(app, make_event):
    """(event id, [GA id, VIP id]) of a published event in America/New_York with an end and a venue."""
    event_id, types = make_event({"name": "GA", "capacity": 10}, {"name": "VIP", "capacity": 5, "price": 5000},
                                 slug="gala")
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.title, event.venue, event.timezone = TITLE, VENUE, "America/New_York"
        event.starts_at, event.ends_at = STARTS, ENDS
        db.session.commit()
    return event_id, types


@pytest.fixture
def confirmed(app, gala, buyer, devstripe, wait_for):
    """Two GA and one VIP, paid on the dev server's hosted page; returns id, token and its codes."""
    event_id, (ga, vip) = gala
    order = buyer.reserve(event_id, {ga: 2, vip: 1})
    paid = devstripe.click(buyer.checkout(order.token), "pay")
    assert paid.status_code == 303
    devstripe.wait_delivered("checkout.session.completed")
    wait_for(lambda: status_of(app, order.id) == OrderStatus.CONFIRMED)
    return SimpleNamespace(id=order.id, token=order.token, codes=codes_of(app, order.id))


def status_of(app, order_id: int) -> OrderStatus:
    with app.app_context():
        return db.session.get(Order, order_id).status


def codes_of(app, order_id: int) -> list[str]:
    """What readmodels.tickets says the order's codes are: every page and file must show exactly these."""
    with app.app_context():
        return [ticket.code for ticket in tickets(db.session.get(Order, order_id))]


def pdf_strings(data: bytes) -> list[str]:
    """The literal strings drawn on a PDF's pages (core-font text such as the codes), read from its
    deflated content streams, so no PDF library is needed."""
    found = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue  # an image or a font, not page content
        found += [text.decode("latin-1") for text in re.findall(rb"\(([^)]*)\)\s*Tj", content)]
    return found


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", data))

"""Fixtures for the tickets tests: an event in New York with two ticket types, and an order for
three of its seats confirmed the real way (reserve, Pay now, the dev Stripe server, its webhook)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from tickets_support import ENDS, STARTS, TITLE, VENUE

from eventsite.domain.models import Event, Order, OrderStatus
from eventsite.infra.db import db
from eventsite.readmodels.tickets import tickets


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

"""The orders list (filters, pages), the order page, and the release and refund actions."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dashboard_helpers import post, refused, reserve, sign_in
from sqlalchemy import select

from eventsite.domain.models import Order, OrderEvent, OrderStatus
from eventsite.infra.db import db
from eventsite.readmodels import availability
from eventsite.readmodels.order_lists import PER_PAGE
from eventsite.services import expiry

ORDER_LINK = re.compile(r'/dashboard/events/\d+/orders/(\d+)"')


def listed(client, event_id: int, query: str = "") -> list[int]:
    response = client.get(f"/dashboard/events/{event_id}/orders?{query}")
    assert response.status_code == 200
    return [int(n) for n in ORDER_LINK.findall(response.get_data(as_text=True))]


def status_of(app, order_id: int) -> OrderStatus:
    with app.app_context():
        return db.session.get(Order, order_id).status


def test_filters_by_status_ticket_type_email_and_date(app, frozen, world, owner):  # frozen first: world at T0
    ga, vip = world.ticket_type_ids
    with app.app_context():
        frozen.advance(timedelta(days=1))  # orders of the next day (UTC event: dates are UTC dates)
        late = reserve(world.event_id, {ga: 1, vip: 1}, "Late.Buyer@Example.test").id
        odd = reserve(world.event_id, {ga: 1}, "100%_real@example.test").id
    sign_in(owner, "owner@example.test")  # a day later: yesterday's sign-in has ended (SESSION_LIFETIME_HOURS)
    day0, day1 = (frozen.now() - timedelta(days=1)).date(), frozen.now().date()
    everything = {world.held_order_id, world.paid_order_id, late, odd}
    assert set(listed(owner, world.event_id)) == everything
    assert listed(owner, world.event_id, "status=confirmed") == [world.paid_order_id]
    assert set(listed(owner, world.event_id, f"ticket_type={vip}")) == {world.paid_order_id, late}
    assert listed(owner, world.event_id, "email=late.buyer") == [late]
    assert listed(owner, world.event_id, "email=100%25_") == [odd]  # % and _ are literal
    assert set(listed(owner, world.event_id, f"created_until={day0}")) == {world.held_order_id, world.paid_order_id}
    assert set(listed(owner, world.event_id, f"created_from={day1}")) == {late, odd}
    assert listed(owner, world.event_id, f"created_from={day1}&ticket_type={vip}&status=reserved") == [late]


@pytest.mark.parametrize("query, message", [("status=lost", "Not a valid choice"),
                                            ("ticket_type=999999", "Not a valid choice"),
                                            ("created_from=yesterday", "Not a valid date")])
def test_bad_filters_are_refused(world, owner, query, message):
    response = owner.get(f"/dashboard/events/{world.event_id}/orders?{query}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_orders_are_paginated_newest_first(app, world, owner, frozen, make_event):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 200}, slug="big", organizer_email="owner@example.test")
    ids = []
    with app.app_context():
        for n in range(PER_PAGE + 5):
            frozen.advance(timedelta(seconds=1))
            ids.append(reserve(event_id, {ga: 1}, f"b{n}@example.test").id)
    newest_first = ids[::-1]
    first = owner.get(f"/dashboard/events/{event_id}/orders").get_data(as_text=True)
    assert "55 orders, page 1 of 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert listed(owner, event_id) == newest_first[:PER_PAGE]
    assert listed(owner, event_id, "page=2") == newest_first[PER_PAGE:]
    assert listed(owner, event_id, "page=99") == newest_first[PER_PAGE:]  # past the end: the last page
    # The pager keeps the filters.
    page = owner.get(f"/dashboard/events/{event_id}/orders?status=reserved").get_data(as_text=True)
    assert "page=2&amp;status=reserved" in page


def test_order_page_shows_items_payment_references_and_audit_trail(app, world, owner):
    with app.app_context():
        order = db.session.get(Order, world.paid_order_id)
        order_id = order.id
    page = owner.get(f"/dashboard/events/{world.event_id}/orders/{order_id}").get_data(as_text=True)
    assert "payer@example.test" in page and "VIP" in page and "€50.00" in page
    assert "Checkout session" in page and "Payment intent" in page
    assert "buyer reserved" in page and "test payment" in page  # both audit rows, with their reasons
    assert "Refund order" in page and "Release hold" not in page
    assert 'hx-confirm="Refund €50.00 to payer@example.test?' in page


def test_release_a_hold(app, world, owner):
    ga = world.ticket_type_ids[0]
    page = owner.get(f"/dashboard/events/{world.event_id}/orders/{world.held_order_id}").get_data(as_text=True)
    assert "Release hold" in page and "Refund order" not in page and "hx-confirm=" in page
    with app.app_context():
        assert availability.figures(world.event_id)[ga].held == 2
    response = post(owner, f"/dashboard/events/{world.event_id}/orders/{world.held_order_id}/release")
    assert response.status_code == 302
    assert status_of(app, world.held_order_id) == OrderStatus.CANCELLED
    with app.app_context():
        assert availability.figures(world.event_id)[ga].held == 0
        last = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == world.held_order_id)
                                  .order_by(OrderEvent.id.desc())).first()
        assert (last.from_status, last.to_status, last.actor) == ("reserved", "cancelled",
                                                                  "organizer:owner@example.test")
    page = owner.get(response.location).get_data(as_text=True)
    assert "The hold was released" in page and "Release hold" not in page


def test_releasing_a_paid_order_is_refused(app, world, owner, snapshot):
    refused(owner, f"/dashboard/events/{world.event_id}/orders/{world.paid_order_id}/release",
            "Only a hold can be released; this order is confirmed.", snapshot)


@pytest.mark.parametrize("said", ["reserved", "expired"])
def test_refunding_an_unpaid_order_is_refused(app, frozen, world, owner, snapshot, said):
    if said == "expired":
        with app.app_context():
            frozen.advance(timedelta(hours=1))
            assert expiry.expire_if_lapsed(world.held_order_id)
    refused(owner, f"/dashboard/events/{world.event_id}/orders/{world.held_order_id}/refund",
            f"Only a confirmed (paid) order can be refunded; this order is {said}.", snapshot)


def test_refunding_another_organizers_order_is_404(app, world, other, snapshot):
    before = snapshot()
    response = post(other, f"/dashboard/events/{world.event_id}/orders/{world.paid_order_id}/refund")
    assert response.status_code == 404
    assert status_of(app, world.paid_order_id) == OrderStatus.CONFIRMED
    assert snapshot() == before


def test_an_expired_order_offers_no_action(app, frozen, world, owner):
    with app.app_context():
        frozen.advance(timedelta(hours=1))
        assert expiry.expire_if_lapsed(world.held_order_id)
    page = owner.get(f"/dashboard/events/{world.event_id}/orders/{world.held_order_id}").get_data(as_text=True)
    assert "Release hold" not in page and "Refund order" not in page and "hold lapsed" in page



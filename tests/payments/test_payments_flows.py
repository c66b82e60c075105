"""Whole payment paths through the dev Stripe server: real HTTP, real SDK, real Redis and RQ."""
from __future__ import annotations

import re

from eventsite.models import OrderStatus

S = OrderStatus


def test_reserve_pay_confirmed_with_one_ticket_per_seat(make_event, buyer, devstripe, reload_order, wait_for):
    event_id, (ga, vip) = make_event({"name": "GA", "capacity": 5}, {"name": "VIP", "capacity": 2, "price": 5000})
    order = buyer.reserve(event_id, {ga: 2, vip: 1})

    checkout_url = buyer.checkout(order.token)

    processing = reload_order(order.id)
    assert processing.status == S.PAYMENT_PROCESSING and checkout_url == processing.checkout_url
    [session] = devstripe.state()["sessions"]
    assert session["client_reference_id"] == order.token and session["metadata"]["order_token"] == order.token
    assert session["amount_total"] == 2 * 1000 + 5000 and session["status"] == "open"

    paid = devstripe.click(checkout_url, "pay")
    assert paid.status_code == 303 and paid.headers["Location"].startswith(f"{buyer.url}/r/{order.token}/payment")
    devstripe.wait_delivered("checkout.session.completed")
    confirmed = reload_order(order.id)
    assert confirmed.status == S.CONFIRMED and confirmed.payment_intent_id.startswith("pi_")

    page = buyer.http.get(paid.headers["Location"], timeout=5).text
    assert "Payment received" in page
    codes = re.findall(r'alt="QR code for ticket (ES-[^"]+)"', page)
    assert len(codes) == 3 and len(set(codes)) == 3
    assert page.count("data:image/svg+xml") == 3

"""Amounts are minor units of the currency's own ISO 4217 exponent all the way: charged,
shown on the hosted page and to the buyer, refunded (JPY 0 decimals, EUR 2, KWD 3)."""
from __future__ import annotations

import pytest

from eventsite.domain.models import OrderStatus


@pytest.mark.parametrize(("currency", "price", "shown"), [
    ("JPY", 2500, "¥5,000"), ("EUR", 2550, "€51.00"), ("KWD", 1234567, "KWD2,469.134")])
def test_a_purchase_in_the_currencys_own_minor_units(make_event, buyer, devstripe, reload_order, currency, price,
                                                     shown):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5, "price": price}, currency=currency)
    order = buyer.reserve(event_id, {ga: 2})
    checkout_url = buyer.checkout(order.token)
    session = devstripe.session(reload_order(order.id).stripe_session_id)
    assert (session["amount_total"], session["currency"]) == (2 * price, currency.lower())  # never x100
    assert f"Pay {shown}" in devstripe.http.get(checkout_url, timeout=5).text

    paid = devstripe.click(checkout_url, "pay")
    devstripe.wait_delivered("checkout.session.completed")
    assert reload_order(order.id).status == OrderStatus.CONFIRMED
    page = buyer.http.get(paid.headers["Location"], timeout=5).text
    assert shown in page  # the total the buyer sees, in the same minor units

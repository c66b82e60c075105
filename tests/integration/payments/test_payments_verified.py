"""A signed event is applied only if it is about the order's own payment: its recorded
session (or, with none recorded yet, a session the provider shows was made for it), the
order's amount and currency, and a payment intent. Anything else never confirms: the
organizer sees an anomaly, and money that belongs to no order is refunded once."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import stripe
from dashboard_helpers import PASSWORD_HASH, sign_in

from eventsite.domain.models import Order, OrderStatus, Organizer, PaymentAnomaly
from eventsite.infra.db import db
from eventsite.readmodels import availability

S = OrderStatus
SECRET = "whsec_tests_only"


def _sdk(devstripe) -> stripe.StripeClient:
    return stripe.StripeClient(devstripe.api_key, base_addresses={"api": devstripe.url}, max_network_retries=0)


def _session_made_elsewhere(devstripe, token: str, amount: int, currency: str = "eur") -> dict:
    """A Checkout Session in the same provider account that the shop never asked for."""
    created = _sdk(devstripe).v1.checkout.sessions.create({
        "mode": "payment", "client_reference_id": token, "metadata": {"order_token": token},
        "line_items": [{"quantity": 1, "price_data": {"currency": currency, "unit_amount": amount,
                                                       "product_data": {"name": "Not from the shop"}}}],
        "success_url": "http://127.0.0.1:9/ok", "cancel_url": "http://127.0.0.1:9/cancel",
        "expires_at": int(time.time()) + 3600})
    return devstripe.session(created.id)


def _post_signed(buyer, kind: str, session: dict):
    payload = json.dumps({"id": f"evt_forged_{time.monotonic_ns()}", "object": "event", "type": kind,
                          "data": {"object": session}})
    t = int(time.time())
    signature = hmac.new(SECRET.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return buyer.http.post(f"{buyer.url}/webhooks/stripe", data=payload, timeout=10, headers={
        "Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={signature}"})


def _anomalies(app, order_id: int | None) -> list[tuple[str, str | None, bool]]:
    with app.app_context():
        return [(a.kind, a.payment_intent_id, a.refund_id is not None)
                for a in db.session.query(PaymentAnomaly).filter_by(order_id=order_id).order_by(PaymentAnomaly.id)]


def test_a_paid_session_the_shop_never_made_does_not_confirm_and_is_refunded(
        app, make_event, buyer, devstripe, reload_order, run_jobs):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    buyer.checkout(order.token)  # the order's own session is recorded
    stray = _session_made_elsewhere(devstripe, order.token, amount=1000)
    devstripe.click(stray["url"], "pay")
    devstripe.wait_delivered("checkout.session.completed")
    run_jobs("default")

    kept = reload_order(order.id)
    assert kept.status == S.PAYMENT_PROCESSING and kept.payment_intent_id is None
    [(kind, intent, refunded)] = _anomalies(app, order.id)
    assert kind == "foreign_session" and intent == devstripe.session(stray["id"])["payment_intent"] and refunded
    assert [r["payment_intent"] for r in devstripe.state()["refunds"]] == [intent]  # once


def test_with_no_session_recorded_less_money_or_another_currency_never_confirms(
        app, make_event, buyer, devstripe, reload_order, run_jobs):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5, "price": 10000})
    cheap, yen = buyer.reserve(event_id, {ga: 1}), buyer.reserve(event_id, {ga: 1}, "yen@example.test")
    for session in (_session_made_elsewhere(devstripe, cheap.token, amount=1),
                    _session_made_elsewhere(devstripe, yen.token, amount=10000, currency="jpy")):
        devstripe.click(session["url"], "pay")
    devstripe.wait_delivered("checkout.session.completed", count=2)
    run_jobs("default")

    assert [k for k, _, refunded in _anomalies(app, cheap.id) if refunded] == ["amount"]
    assert [k for k, _, refunded in _anomalies(app, yen.id) if refunded] == ["currency"]
    for order in (cheap, yen):
        assert reload_order(order.id).status == S.RESERVED  # still a hold, still payable properly
    with app.app_context():
        assert availability.figures(event_id)[ga].sold == 0
    assert len(devstripe.state()["refunds"]) == 2


def _organizer_client(app):
    """The test client of make_event's organizer, signed in to the dashboard."""
    with app.app_context():
        db.session.query(Organizer).filter_by(email="org@example.test").one().password_hash = PASSWORD_HASH
        db.session.commit()
    client = app.test_client()
    assert sign_in(client, "org@example.test").status_code == 302
    return client


def test_an_event_without_a_payment_intent_or_about_another_session_changes_nothing(
        app, make_event, buyer, devstripe, reload_order):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 3})
    order, other = buyer.reserve(event_id, {ga: 1}), buyer.reserve(event_id, {ga: 1}, "other@example.test")
    buyer.checkout(order.token)
    buyer.checkout(other.token)
    own = devstripe.session(reload_order(order.id).stripe_session_id)
    theirs = devstripe.session(reload_order(other.id).stripe_session_id)

    unpaid = {**own, "status": "complete", "payment_status": "paid", "payment_intent": None}
    assert _post_signed(buyer, "checkout.session.completed", unpaid).status_code == 200
    swapped = {**theirs, "client_reference_id": order.token, "metadata": {"order_token": order.token},
               "status": "complete", "payment_status": "paid", "payment_intent": "pi_of_the_other_order"}
    assert _post_signed(buyer, "checkout.session.completed", swapped).status_code == 200
    for kind in ("checkout.session.expired", "checkout.session.async_payment_failed"):
        assert _post_signed(buyer, kind, {**theirs, "client_reference_id": order.token}).status_code == 200

    assert reload_order(order.id).status == S.PAYMENT_PROCESSING  # not confirmed, not ended
    assert reload_order(other.id).status == S.PAYMENT_PROCESSING
    assert [(k, refunded) for k, _, refunded in _anomalies(app, order.id)] == [
        ("no_payment_intent", False), ("foreign_session", False)]  # the other order's money is not ours to give back
    page = _organizer_client(app).get(f"/dashboard/events/{event_id}/orders/{order.id}").get_data(as_text=True)
    assert "Payment anomalies" in page and 'data-anomaly="no_payment_intent"' in page
    with app.app_context():
        assert db.session.get(Order, order.id).anomalies[1].detail.startswith(f"Session {theirs['id']}")


def test_the_organizer_api_lists_an_orders_anomalies(app, make_event, buyer, devstripe, organizer_token):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    buyer.checkout(order.token)
    stray = _session_made_elsewhere(devstripe, order.token, amount=1000)
    devstripe.click(stray["url"], "pay")
    devstripe.wait_delivered("checkout.session.completed")
    listed = app.test_client().get("/api/v1/organizer/events/rush/orders", headers=organizer_token()).json
    [entry] = listed["orders"]
    assert [a["kind"] for a in entry["anomalies"]] == ["foreign_session"] and entry["status"] == "payment_processing"

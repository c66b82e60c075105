"""The webhook endpoint: signature first, each event once, 2xx only after commit."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from sqlalchemy import func, select

from eventsite.domain.models import OrderEvent, OrderStatus, WebhookEvent
from eventsite.infra.db import db


def _signed(payload: str, secret: str) -> str:
    t = int(time.time())
    return f"t={t},v1={hmac.new(secret.encode(), f'{t}.{payload}'.encode(), hashlib.sha256).hexdigest()}"


def _counts(app):
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(WebhookEvent)),
                db.session.scalar(select(func.count()).select_from(OrderEvent)))


def test_bad_signature_is_refused_and_changes_nothing(app, make_event, buyer, devstripe, reload_order):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    buyer.checkout(order.token)
    devstripe.configure(deliver=False)
    devstripe.click(reload_order(order.id).checkout_url, "pay")
    [event] = devstripe.events("checkout.session.completed")
    payload = json.dumps({k: v for k, v in event.items() if k != "attempts"})
    before = _counts(app)

    for headers in ({"Stripe-Signature": _signed(payload, "whsec_someone_else")},
                    {"Stripe-Signature": _signed(payload.replace("paid", "PAID"), "whsec_tests_only")},
                    {}):
        answer = buyer.http.post(f"{buyer.url}/webhooks/stripe", data=payload,
                                 headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == 400, headers

    assert _counts(app) == before
    assert reload_order(order.id).status == OrderStatus.PAYMENT_PROCESSING

    # The same bytes, signed with the shared secret, are accepted (the refusals were about the signature).
    signed = {"Content-Type": "application/json", "Stripe-Signature": _signed(payload, "whsec_tests_only")}
    ok = buyer.http.post(f"{buyer.url}/webhooks/stripe", data=payload, headers=signed)
    assert ok.status_code == 200 and reload_order(order.id).status == OrderStatus.CONFIRMED


def test_the_same_event_delivered_twice_changes_nothing_the_second_time(
        app, make_event, buyer, devstripe, reload_order, wait_for, ctx):
    from eventsite.readmodels import availability

    event_id, (ga,) = make_event({"name": "GA", "capacity": 4})
    order = buyer.reserve(event_id, {ga: 3})
    devstripe.click(buyer.checkout(order.token), "pay")
    [event] = devstripe.wait_delivered("checkout.session.completed")
    after_first = _counts(app)

    devstripe.resend(event["id"])
    wait_for(lambda: len(devstripe.events("checkout.session.completed")[0]["attempts"]) == 2)
    assert devstripe.events("checkout.session.completed")[0]["attempts"] == [200, 200]

    assert _counts(app) == after_first
    confirmed = reload_order(order.id)
    assert [e.to_status for e in confirmed.history] == ["reserved", "payment_processing", "confirmed"]
    assert availability.figures(event_id)[ga].sold == 3


def test_out_of_order_expired_after_completed_changes_nothing(app, make_event, buyer, devstripe, reload_order):
    """Stripe may deliver an old event late: an expiry notice cannot undo a confirmed payment."""
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    devstripe.click(buyer.checkout(order.token), "pay")
    devstripe.wait_delivered("checkout.session.completed")
    session = devstripe.session(reload_order(order.id).stripe_session_id)
    late = {"id": "evt_test_late_expired", "object": "event", "type": "checkout.session.expired",
            "api_version": "2025-09-30.clover", "created": int(time.time()), "livemode": False,
            "data": {"object": {**session, "status": "expired"}}}
    payload = json.dumps(late)
    answer = buyer.http.post(f"{buyer.url}/webhooks/stripe", data=payload, headers={
        "Content-Type": "application/json", "Stripe-Signature": _signed(payload, "whsec_tests_only")})
    assert answer.status_code == 200
    assert reload_order(order.id).status == OrderStatus.CONFIRMED


def test_a_refused_delivery_is_retried_until_the_app_accepts_it(
        app, make_event, buyer, devstripe, reload_order, settings, wait_for):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    checkout_url = buyer.checkout(order.token)
    devstripe.configure(retry_delays=[0.3] * 30)
    settings(STRIPE_WEBHOOK_SECRET="whsec_rotated_too_early")  # the app refuses every signature for now

    devstripe.click(checkout_url, "pay")
    wait_for(lambda: len(devstripe.events("checkout.session.completed")[0]["attempts"]) >= 2)
    assert set(devstripe.events("checkout.session.completed")[0]["attempts"]) == {400}
    assert reload_order(order.id).status == OrderStatus.PAYMENT_PROCESSING

    settings(STRIPE_WEBHOOK_SECRET="whsec_tests_only")
    devstripe.wait_delivered("checkout.session.completed")
    assert reload_order(order.id).status == OrderStatus.CONFIRMED


def test_an_event_that_cannot_be_applied_gets_a_5xx_and_is_applied_on_a_later_delivery(
        app, make_event, buyer, devstripe, reload_order, wait_for):
    from sqlalchemy import text

    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    order = buyer.reserve(event_id, {ga: 2})
    checkout_url = buyer.checkout(order.token)
    devstripe.configure(retry_delays=[0.3] * 30)
    with app.app_context():  # an operator error: capacity cut below what is already held
        db.session.execute(text("UPDATE ticket_types SET capacity = 1 WHERE id = :id"), {"id": ga})
        db.session.commit()

    devstripe.click(checkout_url, "pay")
    wait_for(lambda: len(devstripe.events("checkout.session.completed")[0]["attempts"]) >= 2)
    assert set(devstripe.events("checkout.session.completed")[0]["attempts"]) == {500}
    assert _counts(app)[0] == 0 and reload_order(order.id).status == OrderStatus.PAYMENT_PROCESSING

    with app.app_context():
        db.session.execute(text("UPDATE ticket_types SET capacity = 2 WHERE id = :id"), {"id": ga})
        db.session.commit()
    devstripe.wait_delivered("checkout.session.completed")
    assert reload_order(order.id).status == OrderStatus.CONFIRMED and _counts(app)[0] == 1

"""What happens to a payment afterwards at the provider is reflected on the order: a
refund made in the provider's dashboard refunds it (tickets back on sale), a partial
refund or a dispute is shown to its organizer."""
from __future__ import annotations

from eventsite.domain.models import Order, OrderStatus
from eventsite.infra.db import db
from eventsite.readmodels import availability

S = OrderStatus


def _paid(make_event, buyer, devstripe, reload_order, quantity: int = 2):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 3})
    order = buyer.reserve(event_id, {ga: quantity})
    devstripe.click(buyer.checkout(order.token), "pay")
    devstripe.wait_delivered("checkout.session.completed")
    paid = reload_order(order.id)
    assert paid.status == S.CONFIRMED
    return event_id, ga, paid


def test_a_refund_made_at_the_provider_refunds_the_order(app, make_event, buyer, devstripe, reload_order):
    event_id, ga, paid = _paid(make_event, buyer, devstripe, reload_order)
    refund = devstripe.http.post(f"{devstripe.url}/_dev/payment_intents/{paid.payment_intent_id}/refund",
                                 timeout=5).json()
    devstripe.wait_delivered("charge.refunded")

    refunded = reload_order(paid.id)
    assert refunded.status == S.REFUNDED and refunded.refund_id == refund["id"]
    assert refunded.history[-1].reason == "refunded at the payment provider"
    with app.app_context():
        figure = availability.figures(event_id)[ga]
        assert (figure.sold, figure.available) == (0, 3)  # the tickets are back on sale
    devstripe.resend(devstripe.events("charge.refunded")[0]["id"])  # told twice: one change
    devstripe.wait_delivered("charge.refunded")
    assert len(reload_order(paid.id).history) == len(refunded.history)


def test_a_partial_refund_and_a_dispute_are_shown_and_the_sale_stands(app, make_event, buyer, devstripe,
                                                                       reload_order, organizer_token):
    event_id, ga, paid = _paid(make_event, buyer, devstripe, reload_order)
    base = f"{devstripe.url}/_dev/payment_intents/{paid.payment_intent_id}"
    devstripe.http.post(f"{base}/refund?amount=500", timeout=5).raise_for_status()
    devstripe.wait_delivered("charge.refunded")
    devstripe.http.post(f"{base}/dispute", timeout=5).raise_for_status()
    devstripe.wait_delivered("charge.dispute.created")

    assert reload_order(paid.id).status == S.CONFIRMED
    with app.app_context():
        kinds = [(a.kind, a.detail) for a in db.session.get(Order, paid.id).anomalies]
    assert kinds == [
        ("partial_refund", "500 of 2000 minor units were refunded at the payment provider."),
        ("dispute", "The buyer's bank disputes this payment (fraudulent): respond at the payment provider.")]
    listed = app.test_client().get("/api/v1/organizer/events/rush/orders", headers=organizer_token()).json
    assert [a["kind"] for a in listed["orders"][0]["anomalies"]] == ["partial_refund", "dispute"]

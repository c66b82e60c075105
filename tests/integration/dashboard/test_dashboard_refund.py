"""An organizer refunds an order that was paid through the dev Stripe server (real HTTP, real SDK)."""
from __future__ import annotations

from dashboard_helpers import add_organizer, post, sign_in

from eventsite.domain.models import OrderStatus
from eventsite.readmodels import availability


def paid_order(app, make_event, buyer, devstripe, reload_order):
    """Owner's event; a buyer reserves 2 tickets and pays on the hosted page."""
    with app.app_context():
        add_organizer("owner@example.test")
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5}, slug="owned", organizer_email="owner@example.test")
    order = buyer.reserve(event_id, {ga: 2})
    devstripe.click(buyer.checkout(order.token), "pay")
    devstripe.wait_delivered("checkout.session.completed")
    paid = reload_order(order.id)
    assert paid.status == OrderStatus.CONFIRMED
    return event_id, ga, paid


def figures(app, event_id: int, ticket_type_id: int):
    with app.app_context():
        return availability.figures(event_id)[ticket_type_id]


def test_organizer_refund_goes_through_stripe_and_frees_the_tickets(
        app, make_event, buyer, devstripe, reload_order):
    event_id, ga, order = paid_order(app, make_event, buyer, devstripe, reload_order)
    assert figures(app, event_id, ga).sold == 2
    organizer = app.test_client()
    sign_in(organizer, "owner@example.test")

    response = post(organizer, f"/dashboard/events/{event_id}/orders/{order.id}/refund")

    assert response.status_code == 302
    refunded = reload_order(order.id)
    assert refunded.status == OrderStatus.REFUNDED and refunded.refund_id.startswith("re_")
    [refund] = devstripe.state()["refunds"]
    assert (refund["id"], refund["payment_intent"]) == (refunded.refund_id, order.payment_intent_id)
    last = refunded.history[-1]
    assert (last.from_status, last.to_status, last.actor) == ("confirmed", "refunded", "organizer:owner@example.test")
    after = figures(app, event_id, ga)
    assert (after.sold, after.available) == (0, 5)
    page = organizer.get(f"/dashboard/events/{event_id}/orders/{order.id}").get_data(as_text=True)
    assert refunded.refund_id in page and "Refund order" not in page


def test_a_refund_the_provider_refuses_changes_nothing(app, make_event, buyer, devstripe, reload_order,
                                                       snapshot):
    event_id, ga, order = paid_order(app, make_event, buyer, devstripe, reload_order)
    # Refunded meanwhile in the provider's own dashboard: our request is refused there.
    devstripe.http.post(f"{devstripe.url}/v1/refunds", data={"payment_intent": order.payment_intent_id},
                        headers={"Authorization": f"Bearer {devstripe.api_key}"}, timeout=5).raise_for_status()
    organizer = app.test_client()
    sign_in(organizer, "owner@example.test")
    before = snapshot()

    response = post(organizer, f"/dashboard/events/{event_id}/orders/{order.id}/refund")

    assert response.status_code == 502
    assert "The payment provider did not refund this order" in response.get_data(as_text=True)
    assert snapshot() == before
    assert reload_order(order.id).status == OrderStatus.CONFIRMED

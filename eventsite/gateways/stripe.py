"""The one door to Stripe: the official SDK, pointed at Stripe or at the dev server.

With STRIPE_SECRET_KEY set the client talks to Stripe. Without it, the same
client talks to the project's Stripe-compatible dev server (DEVSTRIPE_URL)
with this installation's dev API key, and webhooks are signed with a dev secret
both sides share (both generated once into instance/devstripe_secret, see
``infra.settings.devstripe_secrets``). No other code path differs.
"""
from __future__ import annotations

import stripe
from flask import current_app

from ..domain.models import Order

# Stripe lets a Checkout Session live 30 minutes to 24 hours; the app expires it
# itself at the hold's expiry, so the session's own limit is only a backstop.
SESSION_MIN_SECONDS = 30 * 60 + 60
SESSION_MAX_SECONDS = 24 * 3600 - 60


INVALID_WEBHOOK = (ValueError, stripe.SignatureVerificationError)


def construct_event(payload: str, signature: str | None):
    """The verified event, or one of INVALID_WEBHOOK (bad payload or signature).
    The secret is Stripe's (settings refuse a real key without it) or the dev server's."""
    return stripe.Webhook.construct_event(payload, signature, current_app.config["STRIPE_WEBHOOK_SECRET"])


def client() -> stripe.StripeClient:
    config = current_app.config
    key = config.get("STRIPE_SECRET_KEY")
    base = None if key else config["DEVSTRIPE_URL"]
    dev_key = None if key else config["DEVSTRIPE_API_KEY"]
    cache = current_app.extensions.setdefault("stripe_clients", {})
    if (key, base, dev_key) not in cache:
        cache[(key, base, dev_key)] = (
            stripe.StripeClient(key) if key
            else stripe.StripeClient(dev_key, base_addresses={"api": base}, max_network_retries=1)
        )
    return cache[(key, base, dev_key)]


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def checkout_params(order: Order, *, success_path: str, cancel_path: str, now_ts: int) -> dict:
    """What Stripe needs to sell this order's tickets, read while the order is loaded."""
    return {
        "mode": "payment",
        "customer_email": order.email,
        "client_reference_id": order.token,
        "metadata": {"order_token": order.token, "order_id": str(order.id)},
        "line_items": [
            {"quantity": item.quantity,
             "price_data": {"currency": order.currency.lower(), "unit_amount": item.unit_price,
                            "product_data": {"name": f"{order.event.title}: {item.ticket_type.name}"}}}
            for item in order.items
        ],
        "success_url": public_url(success_path) + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": public_url(cancel_path),
        "expires_at": min(max(int(order.expires_at.timestamp()), now_ts) + SESSION_MIN_SECONDS,
                          now_ts + SESSION_MAX_SECONDS),
    }


def create_checkout_session(params: dict):
    """Create the order's one Checkout Session: the idempotency key, derived from
    the order, makes a retried request return the session Stripe already made."""
    return client().v1.checkout.sessions.create(
        params, {"idempotency_key": f"checkout-{params['client_reference_id']}"})


def retrieve_session(session_id: str):
    return client().v1.checkout.sessions.retrieve(session_id)


def expire_session(session_id: str):
    """Expire an open session; Stripe refuses (InvalidRequestError) once it is complete."""
    return client().v1.checkout.sessions.expire(session_id)


def refund_payment_intent(payment_intent_id: str, *, key: str, metadata: dict | None = None):
    """Refund a payment in full; ``key`` makes a retried refund the same refund."""
    return client().v1.refunds.create(
        {"payment_intent": payment_intent_id, "reason": "requested_by_customer", "metadata": metadata or {}},
        {"idempotency_key": key})


def refund(payment_intent_id: str, order_token: str):
    return refund_payment_intent(payment_intent_id, key=f"refund-{order_token}",
                                 metadata={"order_token": order_token})

"""Payment routes: Pay now, the preparing/processing pages, the confirmation, the webhook."""
from __future__ import annotations

import logging

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as translated  # (not `_`: a stored message is no literal to extract)

from ...domain.clock import now
from ...domain.holds import effective_status
from ...domain.models import Order, OrderStatus
from ...gateways import stripe as gateway
from ...infra import metrics
from ...readmodels.lookups import order_by_token
from ...readmodels.tickets import tickets
from ...services import paying, webhooks
from ..extensions import csrf
from . import bp, printables  # noqa: F401  (printables' routes attach to bp when it is imported)

log = logging.getLogger(__name__)


def _redirect(url: str):
    """Leave the page: htmx follows HX-Redirect, a plain browser a 303."""
    if request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def _payment_error(order: Order) -> str | None:
    """What went wrong with the payment, in the reader's language: services store it as an English
    message (``services.paying``, ``services.webhooks``), translated here where it is shown."""
    return translated(order.payment_error) if order.payment_error else None


@bp.post("/r/<token>/pay")
def pay(token: str):
    order = order_by_token(token)
    paying.request_payment(order)
    if request.headers.get("HX-Request"):
        return preparing_poll(token)
    return redirect(url_for("payments.preparing", token=token), 303)


@bp.get("/r/<token>/pay")
def preparing(token: str):
    """"Preparing payment…" while the session job runs (full page)."""
    order = order_by_token(token)
    if order.checkout_url and order.status == OrderStatus.PAYMENT_PROCESSING:
        return redirect(order.checkout_url, 303)
    return render_template("payments/preparing.html", order=order, payment_error=_payment_error(order))


@bp.get("/r/<token>/pay/poll")
def preparing_poll(token: str):
    order = order_by_token(token)
    if order.checkout_url and order.status == OrderStatus.PAYMENT_PROCESSING:
        return _redirect(order.checkout_url)
    if order.status != OrderStatus.RESERVED:
        return _redirect(url_for("payments.status", token=token))
    return render_template("payments/_preparing.html", order=order, payment_error=_payment_error(order))


@bp.get("/r/<token>/payment")
def status(token: str):
    """Where a hold goes once payment has started: processing, confirmed or refunded.

    Stripe's success URL carries ``session_id``: only then has the buyer been
    through checkout, and "Processing payment…" is the truth; otherwise (the
    cancel URL, or a visit from the reservation page) the payment is unfinished."""
    order = order_by_token(token)
    return render_template("payments/status.html", order=order, unfinished="session_id" not in request.args,
                           at=now(), tickets=tickets(order), payment_error=_payment_error(order))


@bp.get("/r/<token>/payment/poll")
def status_poll(token: str):
    order, at = order_by_token(token), now()
    if effective_status(order, at) != OrderStatus.PAYMENT_PROCESSING:
        return _redirect(url_for("payments.status", token=token))  # the outcome (or the lapse) as a whole page
    return render_template("payments/_processing.html", order=order, at=at,
                           unfinished=request.args.get("unfinished") == "1")


@bp.post("/webhooks/stripe")
@csrf.exempt
def stripe_webhook():
    """Verify first; answer 2xx only once the event is committed, 5xx so Stripe retries."""
    payload = request.get_data(as_text=True)
    try:
        event = gateway.construct_event(payload, request.headers.get("Stripe-Signature"))
    except gateway.INVALID_WEBHOOK:
        metrics.WEBHOOK_OUTCOMES.labels("refused").inc()
        return {"error": "invalid payload or signature"}, 400
    if problem := webhooks.malformed(event):
        metrics.WEBHOOK_OUTCOMES.labels("refused").inc()
        return {"error": f"malformed event: {problem}"}, 400
    try:
        outcome = webhooks.apply_event(event)
    except Exception:
        log.exception("webhook %s could not be applied", event.id)
        metrics.WEBHOOK_OUTCOMES.labels("failed").inc()
        return {"error": "not applied; retry later"}, 500
    return {"received": event.id, "outcome": outcome}, 200

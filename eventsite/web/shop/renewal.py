"""Renewing a hold from the reservation page ("Need more time?", "Keep my tickets"): WCAG 2.2.1,
Timing Adjustable. The rule and its refusals are the service's; this page asks and shows the answer."""
from __future__ import annotations

from flask import make_response, render_template

from ...domain.errors import DomainError
from ...domain.models import Order
from ...domain.renewals import offer_window
from ...readmodels.lookups import order_by_token
from ...services import renewing
from ..extensions import htmx
from ..i18n import said
from . import bp
from .views import PAYMENT_STATUSES, reservation_context


@bp.context_processor
def _renewal_helpers():
    # The status fragment offers more time exactly when the domain would grant it (but for
    # anyone waiting, which only the locked service can tell); a refused renewal of an order
    # already in payment says so rather than calling it expired.
    return {"renewal_offered": offer_window, "payment_started": lambda order: order.status in PAYMENT_STATUSES}


@bp.post("/r/<token>/renew")
def renew(token: str):
    order = order_by_token(token)
    try:
        order = renewing.renew(order, actor=f"buyer:{order.email}")
    except DomainError as refused:  # nothing changed: the page shows the hold as it still is, and why
        return _answer(order, refused.http_status, refused=said(refused))
    return _answer(order, 200, renewed=True)


def _answer(order: Order, status: int, **outcome):
    """htmx swaps the whole reservation (countdown, offer, dialog); a plain form gets the page."""
    template = "shop/_reservation.html" if htmx else "shop/reservation.html"
    return make_response(render_template(template, **reservation_context(order), **outcome), status)

""""Find my tickets": a buyer who lost the link gives their address and is sent one
message listing their orders. The answer is the same whether or not there are any,
and limits per address asked about and per client keep it from being a mail cannon."""
from __future__ import annotations

from flask import current_app, render_template, request

from ...domain.errors import InvalidRequest
from ...domain.rules import email_address, normalize_email
from ...services import emails
from ..i18n import language_now
from ..ratelimit import limiter
from . import bp


@bp.get("/tickets")
def find_tickets():
    return render_template("shop/find_tickets.html")


@bp.post("/tickets")
def send_ticket_links():
    try:  # lower-cased as orders are looked up, then checked and normalized by the one email rule
        email = email_address(normalize_email(request.form.get("email")))
    except InvalidRequest as error:
        typed = request.form.get("email", "")
        return render_template("shop/find_tickets.html", find_error=error, find_email=typed), 422
    config = current_app.config
    with limiter().limit(config["FIND_TICKETS_CLIENT_RATE_LIMIT"], scope="find-tickets-client"), \
            limiter().limit(config["FIND_TICKETS_RATE_LIMIT"], key_func=lambda: email, scope="find-tickets-email"):
        emails.request_ticket_links(email, language=language_now())
    return render_template("shop/find_tickets.html", sent_to=email)

"""The buyer's tickets to take away: a printable page, a PDF, a calendar entry.

Like every order page they are reachable only through the order's token; an order that is not
confirmed has no tickets (404 for the files, a page that says so with a way back)."""
from __future__ import annotations

import io

from flask import render_template, send_file

from ...domain.errors import N_, NotFound
from ...domain.models import Order
from ...readmodels.calendar import event_ics
from ...readmodels.lookups import order_by_token
from ...readmodels.ticket_pdf import tickets_pdf
from ...readmodels.tickets import tickets
from . import bp

NO_TICKETS = N_("This order has no tickets yet: they are issued once its payment is confirmed.")


@bp.get("/r/<token>/tickets")
def printable(token: str):
    order = order_by_token(token)
    return render_template("payments/tickets.html", order=order, tickets=tickets(order))


@bp.get("/r/<token>/tickets.pdf")
def tickets_file(token: str):
    order = _confirmed(token)
    return _attachment(tickets_pdf(order), "application/pdf", f"{order.event.slug}-tickets.pdf")


@bp.get("/r/<token>/calendar.ics")
def calendar_file(token: str):
    order = _confirmed(token)
    return _attachment(event_ics(order), "text/calendar", f"{order.event.slug}.ics")


def _confirmed(token: str) -> Order:
    order = order_by_token(token)
    if not tickets(order):
        raise NotFound(NO_TICKETS)
    return order


def _attachment(content: bytes, mimetype: str, filename: str):
    # send_file writes the filename safely (quoted, RFC 5987 for anything not ASCII).
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename)

"""The web layer: buyer pages, payment pages and webhook, organizer dashboard, JSON API.

Views are thin: parse the request, call one service or read model, render.
"""
from __future__ import annotations

from flask import Flask, redirect, url_for

from ..domain import formatting, rules
from ..domain.clock import now
from ..domain.holds import effective_status
from ..infra.addresses import checked_address
from ..readmodels import localized, tickets
from . import errors, headers, i18n, ratelimit
from .converters import IdConverter
from .extensions import csrf, htmx


def init_app(app: Flask) -> None:
    from . import api, dashboard, ops, payments, shop

    rules.use_email_check(checked_address)  # every entry point's email rule gets the full syntax check
    app.url_map.converters["id"] = IdConverter  # ids in URLs: 404 outside the database's integer range
    csrf.init_app(app)
    htmx.init_app(app)
    ratelimit.init_app(app)
    i18n.init_app(app)
    # One way to show money, numbers and time on every page, in the reader's language.
    app.add_template_filter(localized.money, "money")
    app.add_template_filter(localized.number, "number")
    app.add_template_filter(formatting.clock_face, "clock_face")
    app.add_template_filter(localized.when, "local_time")
    app.add_template_filter(tickets.qr_svg_data_uri, "qr")  # a ticket code as its QR code (SVG data URI)
    app.add_template_global(formatting.seconds_until, "seconds_until")
    app.add_template_global(localized.money, "money")
    app.add_template_global(localized.when, "local")
    app.add_template_global(localized.event_starts, "event_starts")
    app.add_template_global(localized.event_ends, "event_ends")
    # An order's status as shown now: a lapsed hold reads "expired" before any job has run.
    app.add_template_global(lambda order: effective_status(order, now()), "shown_status")
    errors.register_routing_pages(app)
    # Each area registers its own blueprint and whatever it needs (login, limiter).
    for area in (shop, payments, dashboard, api, ops):
        area.init_app(app)
    errors.register(app)
    # Browsers and crawlers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: redirect(url_for("static", filename="favicon.svg"), 301))
    headers.init_app(app)  # security headers on every response; no-store on private pages

"""Buyer pages: event list, event page, availability fragment, reservation page (and renewing it),
the waiting list's pages, "find my tickets"."""
from flask import Blueprint

bp = Blueprint("shop", __name__)


def init_app(app) -> None:
    from . import find_tickets, renewal, room, views, waitlist  # noqa: F401  (routes attach to bp)

    app.register_blueprint(bp, url_prefix=None)

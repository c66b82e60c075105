"""Buyer pages: event list, event page, availability fragment, reservation page."""
from flask import Blueprint

bp = Blueprint("shop", __name__)


def init_app(app) -> None:
    from . import display, views  # noqa: F401  (routes attach to bp)

    app.register_blueprint(bp, url_prefix=None)
    app.add_template_filter(display.money, "money")
    app.add_template_filter(display.clock_face, "clock_face")
    app.add_template_filter(display.local_time, "local_time")
    app.add_template_global(display.seconds_until, "seconds_until")

"""Organizer pages: accounts, events, ticket types, live figures, waiting rooms, orders, refunds, exports,
check-in at the door."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)


def init_app(app) -> None:
    from . import auth, cleanup, room, views  # noqa: F401  (routes attach to bp)

    auth.init_app(app)
    app.register_blueprint(bp, url_prefix="/dashboard")

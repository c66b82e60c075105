"""Organizer pages: accounts, events, ticket types, live figures, orders, refunds, exports."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)


def init_app(app) -> None:
    from . import auth, cli, views  # noqa: F401  (routes attach to bp)

    auth.init_app(app)
    app.cli.add_command(cli.organizer)
    app.register_blueprint(bp, url_prefix="/dashboard")

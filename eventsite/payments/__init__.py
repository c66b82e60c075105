"""Stripe Checkout: the gateway, the webhook, the payment pages and the dev server."""
from flask import Blueprint

bp = Blueprint("payments", __name__)


def init_app(app) -> None:
    from .. import jobs
    from . import views  # noqa: F401  (routes attach to bp)

    app.register_blueprint(bp, url_prefix=None)
    jobs.init_app(app)

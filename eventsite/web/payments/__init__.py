"""Payment pages (Pay now, preparing, processing, confirmation) and the Stripe webhook."""
from flask import Blueprint

bp = Blueprint("payments", __name__)


def init_app(app) -> None:
    from . import views  # noqa: F401  (routes attach to bp)

    app.register_blueprint(bp, url_prefix=None)

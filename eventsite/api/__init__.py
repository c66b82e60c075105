"""Public JSON API under /api/v1."""
from flask import Blueprint

bp = Blueprint("api", __name__)


def init_app(app) -> None:
    from . import views  # noqa: F401  (routes attach to bp)

    app.register_blueprint(bp, url_prefix="/api/v1")

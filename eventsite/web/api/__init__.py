"""Public JSON API under /api/v1: events, availability, reservations (and their renewal), waiting lists,
waiting rooms, organizer figures, check-ins at the door."""
from flask import Blueprint
from werkzeug.routing import BaseConverter

from ...domain.rules import CONTROL_CHARACTER_CLASS
from ..extensions import csrf

PREFIX = "/api/v1"

bp = Blueprint("api", __name__)


class SegmentConverter(BaseConverter):
    """A slug or token: one path segment without control characters (which PostgreSQL
    would refuse in a query), so such URLs are a plain 404."""

    regex = f"[^/{CONTROL_CHARACTER_CLASS}]{{1,200}}"


def init_app(app) -> None:
    from . import errors, limits, room, views  # noqa: F401  (routes attach to bp)

    app.config["API_PREFIX"] = PREFIX
    app.url_map.converters["api_segment"] = SegmentConverter
    app.register_blueprint(bp, url_prefix=PREFIX)
    # Token- and JSON-based: no cookies are trusted here, so no CSRF token either.
    csrf.exempt(bp)
    errors.register(app)
    limits.init_app(app)

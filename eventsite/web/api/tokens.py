"""Organizer API authentication: `Authorization: Bearer <token>` (tokens: services.accounts)."""
from __future__ import annotations

from flask import request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from ...domain.models import Organizer
from ...services.accounts import organizer_by_api_token


def authenticated_organizer() -> Organizer:
    """The organizer whose token is in `Authorization: Bearer ...`, or 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    organizer = organizer_by_api_token(token.strip()) if scheme.lower() == "bearer" else None
    if organizer is None:
        raise Unauthorized("Send a valid organizer API token as `Authorization: Bearer <token>`.",
                           www_authenticate=WWWAuthenticate("bearer", {"realm": "eventsite"}))
    return organizer

"""JSON errors for everything under /api/v1: `{"error": {"code", "message", "fields"}}`.

Domain errors raised in API views are answered by blueprint handlers. Routing
errors (404, 405) happen before any blueprint is known and a crash (500) may
happen anywhere, so those are handled app-wide, but only for /api/v1 paths;
other paths keep whatever handler the pages registered before us.
"""
from __future__ import annotations

import math
from datetime import datetime

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, default_exceptions

from ...domain.clock import now
from ...domain.errors import AllReserved, DomainError, InvalidRequest
from . import bp
from .limits import retry_after

MAX_FIELD_ERRORS = 20  # a body with 200,000 bad keys must not get a 7 MB answer


class InvalidInput(InvalidRequest):
    """Request body or query failed validation; one message per field (the first
    ``MAX_FIELD_ERRORS`` of them, in name order, and how many more there were)."""

    def __init__(self, fields: dict[str, str]):
        names = sorted(fields)
        shown, more = names[:MAX_FIELD_ERRORS], len(names) - MAX_FIELD_ERRORS
        super().__init__("Some fields are invalid: " + ", ".join(shown) + (f" and {more} more." if more > 0 else "."))
        self.fields = {name: fields[name] for name in shown}


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None, **extra):
    body = {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}
    return jsonify(body), status, headers or {}


def seconds_until(at: datetime) -> int:
    """Whole seconds from now until ``at``, at least 1 (a client retrying at 0 would be early)."""
    return max(1, math.ceil((at - now()).total_seconds()))


def domain_error(error: DomainError):
    fields = getattr(error, "fields", None) or ({error.field: error.message} if error.field else {})
    if isinstance(error, AllReserved) and error.retry_at is not None:
        retry_after = seconds_until(error.retry_at)
        return error_response(error.http_status, error.code, error.message, fields,
                              {"Retry-After": str(retry_after)}, retry_after=retry_after,
                              retry_at=error.retry_at.isoformat())
    return error_response(error.http_status, error.code, error.message, fields)


bp.register_error_handler(DomainError, domain_error)


def is_api_request() -> bool:
    prefix = current_app.config["API_PREFIX"]
    return request.path == prefix or request.path.startswith(prefix + "/")


def http_error(error: HTTPException):
    code = (error.name or "error").lower().replace(" ", "_")
    # A crash's details belong in the log, not in the answer.
    message = "Something went wrong on our side." if (error.code or 500) >= 500 else error.description
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    if error.code == 429:
        headers["Retry-After"] = str(retry_after())
    return error_response(error.code or 500, code, message, headers=headers)


def _api_only(app: Flask, key):
    """Register ``http_error`` for ``key`` on /api/v1 paths, chaining to the handler
    another area registered earlier for other paths (or Flask's default)."""
    exc_class = default_exceptions[key] if isinstance(key, int) else key
    code = key if isinstance(key, int) else None
    previous = app.error_handler_spec[None][code].get(exc_class)

    def handler(error):
        if is_api_request():
            return http_error(error)
        return previous(error) if previous else error

    app.register_error_handler(key, handler)


def register(app: Flask) -> None:
    # Code-specific handlers win over class-based ones in Flask, so the codes the
    # pages are likely to customise get their own registration.
    for key in (404, 405, 429, 500, HTTPException):
        _api_only(app, key)

"""App-wide handlers: turning domain errors into clear HTTP answers."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

from .errors import DomainError

STALE_FORM = "This form has expired (its security token is missing or out of date). Reload the page and try again."


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if _wants_json():
            return {"error": {"code": error.code, "message": error.message}}, error.http_status
        return render_template("error.html", message=error.message), error.http_status

    @app.errorhandler(CSRFError)
    def stale_form(_error: CSRFError):
        if _wants_json():
            return {"error": {"code": "csrf", "message": STALE_FORM}}, 400
        return render_template("error.html", message=STALE_FORM, reload=True), 400

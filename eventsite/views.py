"""App-wide handlers: turning domain errors into clear HTTP answers."""
from __future__ import annotations

from flask import Flask, render_template, request

from .errors import DomainError


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if request.accept_mimetypes.best == "application/json":
            return {"error": {"code": error.code, "message": error.message}}, error.http_status
        return render_template("error.html", message=error.message), error.http_status

"""App-wide handlers: domain errors, a busy lock and stale forms as clear HTTP answers.

Pages say them in the reader's language; JSON answers (the API's and any client's asking
for JSON) keep the English message, as the API documents it."""
from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..domain.errors import N_, DomainError, InvalidRequest, NotFound
from ..infra.transactions import Busy
from .i18n import said

log = logging.getLogger(__name__)
# English, as JSON answers say them; pages translate them (gettext) where they render them.
UNAVAILABLE = N_("The shop cannot reach its database for a moment; nothing was changed. Please try again shortly.")
STALE_FORM = N_("This form has expired (its security token is missing or out of date). Reload the page and try again.")
TOO_LARGE = N_("This request is too large: at most %(kib)s KiB is accepted. Nothing was changed.")


def wants_json() -> bool:
    api_prefix = current_app.config.get("API_PREFIX")
    api_path = bool(api_prefix and request.path.startswith(api_prefix))
    return api_path or request.accept_mimetypes.best == "application/json"


# Routing errors on pages, in the reader's language (Werkzeug's own pages are English).
_ROUTING = {404: N_("There is no such page."), 405: N_("This page cannot be used that way.")}


def register_routing_pages(app: Flask) -> None:
    """Before the API's handlers, which answer its own paths in JSON and chain to these for pages."""
    def routing_error(error: HTTPException):
        if wants_json():
            return error
        return render_template("error.html", message=gettext(_ROUTING[error.code])), error.code

    for code in _ROUTING:
        app.register_error_handler(code, routing_error)


def register(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters():
        """PostgreSQL text cannot hold NUL: refuse it before any query can fail on it.
        A path with NUL names nothing (404); a field with NUL is invalid input (422)."""
        if "\x00" in request.path:
            raise NotFound(N_("There is no such page."))
        fields = request.args.items(multi=True)
        if request.form:
            fields = [*fields, *request.form.items(multi=True)]
        for name, value in fields:
            if "\x00" in value:
                raise InvalidRequest(N_("The request contains a NUL character."), field=name)

    @app.before_request
    def refuse_oversized_bodies():
        """A body over MAX_REQUEST_BYTES is refused before anything acts on the request, even
        where the view would ignore its body."""
        limit = request.max_content_length
        if limit is None:
            return
        if (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()
        if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            # A body sent in chunks declares no length, and Werkzeug stops reading it at the limit,
            # handing the view its first bytes as if that were all: read it now, and refuse the rest.
            if len(request.get_data(cache=True)) >= limit and request.environ["wsgi.input"].read(1):
                raise RequestEntityTooLarge()

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: RequestEntityTooLarge):
        kib = max(1, (request.max_content_length or 0) // 1024)
        if wants_json():
            return {"error": {"code": "too_large", "message": TOO_LARGE % {"kib": kib}, "fields": {}}}, 413
        return render_template("error.html", message=gettext(TOO_LARGE, kib=kib)), 413

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if wants_json():
            return {"error": {"code": error.code, "message": error.message}}, error.http_status
        return render_template("error.html", message=said(error)), error.http_status

    @app.errorhandler(Busy)
    def busy(error: Busy):
        """A lock was not granted in time: nothing changed; the client may simply retry."""
        headers = {"Retry-After": str(error.retry_after)}
        if wants_json():
            return {"error": {"code": "busy", "message": str(error), "fields": {}}}, 503, headers
        return render_template("error.html", message=gettext(str(error)), reload=True), 503, headers

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error):
        """The database went away (a restart, a failover): the transaction was lost whole,
        so nothing changed; the client may retry. Other database errors stay 500s."""
        log.warning("database unavailable: %s", error.orig)
        headers = {"Retry-After": "5"}
        if wants_json():
            return {"error": {"code": "unavailable", "message": UNAVAILABLE, "fields": {}}}, 503, headers
        return render_template("error.html", message=gettext(UNAVAILABLE), reload=True), 503, headers

    @app.errorhandler(CSRFError)
    def stale_form(_error: CSRFError):
        if wants_json():
            return {"error": {"code": "csrf", "message": STALE_FORM}}, 400
        return render_template("error.html", message=gettext(STALE_FORM), reload=True), 400

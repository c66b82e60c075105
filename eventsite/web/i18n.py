"""The reader's language: English or German, from a choice that sticks (a cookie set by the
switcher on every page), else the browser's Accept-Language, else English.

Pages translate with Flask-Babel (``_`` in Python, ``{% trans %}`` and ``_()`` in templates);
messages from below the web layer arrive as English templates with their values
(``domain.errors``) and are translated where shown (``said``). Emails are written in the
language the buyer used when they placed the order or joined the line (``language_now``
is recorded with it).
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, redirect, request, url_for
from flask_babel import Babel, gettext
from flask_babel import lazy_gettext as _l

from ..domain.errors import DomainError
from ..domain.models import OrderStatus
from ..readmodels import localized

COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600
# Each language named in itself, for the switcher.
NAMES = {"en": "English", "de": "Deutsch"}
# An order's status as a reader calls it.
STATUS_LABELS = {
    OrderStatus.RESERVED: _l("reserved"),
    OrderStatus.PAYMENT_PROCESSING: _l("payment processing"),
    OrderStatus.CONFIRMED: _l("confirmed"),
    OrderStatus.EXPIRED: _l("expired"),
    OrderStatus.CANCELLED: _l("cancelled"),
    OrderStatus.REFUNDED: _l("refunded"),
}


def select_language() -> str:
    if not has_request_context():  # a worker's text without a forced language (a CLI export, a test)
        return localized.DEFAULT_LANGUAGE
    chosen = request.cookies.get(COOKIE)
    if chosen in localized.LANGUAGES:
        return chosen
    return request.accept_languages.best_match(localized.LANGUAGES) or localized.DEFAULT_LANGUAGE


def language_now() -> str:
    """The current page's language, recorded with an order or a place so its emails speak it."""
    return localized.language_of()


def said(error: DomainError) -> str:
    """A domain error's message in the reader's language (an order status among its values too)."""
    params = {name: status_label(value) if isinstance(value, OrderStatus) else value
              for name, value in error.params.items()}
    return gettext(error.template, **params)


def status_label(status: OrderStatus | str | None) -> str:
    """``OrderStatus.PAYMENT_PROCESSING`` -> "payment processing" / "Zahlung läuft"."""
    return str(STATUS_LABELS[OrderStatus(status)]) if status else "–"


def switch_language():
    """The switcher's form: remember the choice for a year, back to the page it was on."""
    chosen = request.form.get("lang", "")
    target = request.form.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or "\\" in target or parts.scheme or parts.netloc:
        target = url_for("shop.index")  # only a path on this site: never an open redirect
    response = redirect(target, 303)
    if chosen in localized.LANGUAGES:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_SECONDS, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _vary(response):
    """A page's words depend on the language cookie and Accept-Language: caches must keep them apart."""
    if response.mimetype == "text/html":
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          os.path.join(os.path.dirname(app.root_path), "translations"))
    Babel(app, locale_selector=select_language)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks' line breaks are not in the catalog
    app.add_url_rule("/language", "language", switch_language, methods=["POST"])
    app.after_request(_vary)
    app.add_template_global(language_now, "current_language")
    app.add_template_global(NAMES, "language_names")
    app.add_template_global(said, "said")
    app.add_template_global(status_label, "status_label")

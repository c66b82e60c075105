"""Security headers on every response (Flask-Talisman), and the pages no cache may keep.

Every page: a Content-Security-Policy with no inline script or style (scripts and styles
are static files; QR codes are SVG data URIs), no framing (the Refund and Release buttons
cannot be clicked through someone else's page), nosniff, and a same-origin referrer.
With an https PUBLIC_URL, HSTS too (on requests that came over https: the proxy says so in
X-Forwarded-Proto). TLS ends at the proxy, so the app never redirects to https itself, and
the session cookie's flags stay where the settings put them.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_talisman import DENY, Talisman

STRIPE_CHECKOUT = "https://checkout.stripe.com"


def payment_page_origin() -> str:
    """Where "Pay now" sends the buyer: Stripe's hosted checkout, or the dev payment server."""
    config = current_app.config
    if config["STRIPE_SECRET_KEY"]:
        return STRIPE_CHECKOUT
    url = urlsplit(config["DEVSTRIPE_URL"])
    return f"{url.scheme}://{url.netloc}"


class _FormTargets:
    """form-action's sources. Chromium applies form-action to the redirects that follow a form
    post too, and a Pay now without htmx posts, then is sent on to the hosted payment page.
    Talisman joins a non-string value's items for each response, so the origin is read from
    the config then (as the rate limits are), not frozen when the app is made."""

    def __iter__(self):
        return iter(("'self'", payment_page_origin()))


POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",  # QR codes are SVG data URIs
    # The door's QR scanner (qr-scanner) starts its decoder as a worker from a blob: URL it makes
    # from its own static script; only script already running on our origin can make one.
    "worker-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": _FormTargets(),
}

# rq-dashboard's pages run inline scripts and compile underscore templates (eval): they get
# a policy that lets them work. They are for operators only (behind HTTP basic auth) and
# still cannot be framed, and their buttons are refused anyway (no CSRF token).
JOB_MONITOR_POLICY = {
    "default-src": "'self'",
    "script-src": "'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def init_app(app: Flask) -> None:
    # Flask runs after-request functions in reverse order of registration: registered before
    # Talisman's, ours runs after it, so the token pages' no-referrer wins over same-origin.
    app.after_request(_keep_private_pages_private)
    # One Talisman per app: it keeps its options on itself (tests make several apps).
    app.extensions["talisman"] = Talisman(
        app,
        content_security_policy=POLICY,
        frame_options=DENY,
        referrer_policy="same-origin",
        force_https=False,  # TLS ends at the proxy: the app never sees https, and must not redirect
        strict_transport_security=app.config["PUBLIC_URL"].lower().startswith("https://"),
        strict_transport_security_include_subdomains=False,  # other hosts of the domain are not ours
        # The session cookie's flags belong to the settings (SESSION_COOKIE_*): keep them as they are.
        session_cookie_secure=False,
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )


def exempt_job_monitor(app: Flask, blueprint_name: str) -> None:
    """Give the job monitor's views their own policy (see JOB_MONITOR_POLICY). Talisman reads it
    from an attribute of the view; rq-dashboard's views are methods, so each gets a wrapper."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(blueprint_name + "."):
            app.view_functions[endpoint] = _with_policy(view, JOB_MONITOR_POLICY)


def _with_policy(view, csp: dict):
    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    wrapper.talisman_view_options = {"content_security_policy": csp}
    return wrapper


def _keep_private_pages_private(response):
    """A page named by an order's token is the buyer's key to it (and, once paid, shows the
    ticket codes): no cache keeps a copy, and no link or redirect from it tells the next site
    the URL. The dashboard shows buyers' addresses and takings: no cache keeps those either."""
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    elif request.blueprint == "dashboard":
        response.headers["Cache-Control"] = "no-store"
    return response

"""Security headers on every kind of response: buyer pages, token pages, the dashboard, the API,
the job monitor. What a browser is told: no inline script or style, no framing, no sniffing,
which referrer to send, what not to keep, and (behind https only) to stay on https."""
from __future__ import annotations

import re
from base64 import b64encode
from pathlib import Path

import pytest
from shop_support import csrf_from

from eventsite import create_app
from eventsite.infra.db import db

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
DEV_PAYMENT_PAGE = "http://127.0.0.1:12111"


def policy(response) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    directives = (part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return {name: sources for name, sources in directives}


def assert_locked_down(response) -> None:
    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"  # QR codes are SVG data URIs
    assert csp["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"
    assert csp["base-uri"] == "'self'" and csp["object-src"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "style-src" not in csp  # both fall back to default-src 'self'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # PUBLIC_URL is http here


@pytest.fixture
def token(client, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 5})
    form = {"csrf_token": csrf_from(client.get("/events/rush").text), "email": "ann@example.test", f"qty-{ga}": "2"}
    reserved = client.post("/events/rush/reserve", data=form)
    assert reserved.status_code == 303, reserved.text
    return reserved.headers["Location"].rsplit("/", 1)[1]


def test_a_buyer_page_forbids_inline_code_framing_and_sniffing(client, make_event):
    make_event()
    for path in ("/", "/events/rush"):
        response = client.get(path)
        assert response.status_code == 200
        assert_locked_down(response)
        assert response.headers["Referrer-Policy"] == "same-origin"  # our own pages still learn where from
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_form_posts_may_go_only_to_us_and_the_payment_page(client, make_event, settings):
    make_event()
    assert policy(client.get("/events/rush"))["form-action"] == f"'self' {DEV_PAYMENT_PAGE}"
    settings(DEVSTRIPE_URL="http://127.0.0.1:4242/some/path")  # read per response, like every setting
    assert policy(client.get("/events/rush"))["form-action"] == "'self' http://127.0.0.1:4242"
    settings(STRIPE_SECRET_KEY="sk_test_real", STRIPE_WEBHOOK_SECRET="whsec_real")
    assert policy(client.get("/events/rush"))["form-action"] == "'self' https://checkout.stripe.com"


def test_a_token_page_is_not_kept_and_tells_no_one_its_url(client, token):
    for path in (f"/r/{token}", f"/r/{token}/status"):
        response = client.get(path)
        assert response.status_code == 200
        assert_locked_down(response)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"  # not Talisman's same-origin


def test_every_dashboard_page_is_not_kept(app, owner, world):
    pages = ["/dashboard/", f"/dashboard/events/{world.event_id}", f"/dashboard/events/{world.event_id}/orders",
             f"/dashboard/events/{world.event_id}/checkin"]
    for path in pages:
        response = owner.get(path)
        assert response.status_code == 200, path
        assert_locked_down(response)
        assert response.headers["Cache-Control"] == "no-store", path
    signed_out = app.test_client().get("/dashboard/login")
    assert signed_out.headers["Cache-Control"] == "no-store" and signed_out.headers["X-Frame-Options"] == "DENY"


def test_api_answers_and_error_pages_carry_the_headers_too(client, make_event):
    make_event()
    for path, status in (("/api/v1/events", 200), ("/api/v1/events/nope", 404), ("/no/such/page", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert_locked_down(response)


def test_the_session_cookie_keeps_the_settings_flags(client, make_event):
    """Talisman would make the session cookie Secure on its own; the settings decide that
    (SESSION_COOKIE_SECURE: true behind https), so over plain http a sign-in still works."""
    make_event()
    cookie = client.get("/events/rush").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.fixture
def https_app(app):
    """A second app on the same database, served as https://tickets.example (TLS ends at the proxy)."""
    served = create_app({
        **{key: app.config[key] for key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL")},
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0},
        "PUBLIC_URL": "https://tickets.example",
    })
    yield served
    with served.app_context():
        db.engine.dispose()


HSTS = "max-age=31556926"
FROM_PROXY = {"X-Forwarded-Proto": "https"}


def test_hsts_only_when_the_public_url_is_https(client, https_app, make_event):
    make_event()
    behind_https = https_app.test_client()
    served = behind_https.get("/events/rush", headers=FROM_PROXY)
    assert served.status_code == 200
    assert served.headers["Strict-Transport-Security"] == HSTS  # this host only: other hosts are not ours
    assert "Strict-Transport-Security" not in client.get("/events/rush", headers=FROM_PROXY).headers
    # The proxy talks plain http to the app: no redirect to https from the app itself.
    assert behind_https.get("/events/rush").status_code == 200


def test_the_job_monitor_gets_its_own_policy_but_is_never_framed(app, rq_redis):
    """rq-dashboard's pages need inline scripts and eval; they are for operators only."""
    monitored = create_app({
        **{key: app.config[key] for key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL")},
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0}, "OPS_PASSWORD": "door-staff-only"})
    try:
        auth = {"Authorization": "Basic " + b64encode(b"ops:door-staff-only").decode()}
        page = monitored.test_client().get("/ops/rq/", headers=auth)
        assert page.status_code == 200
        csp = policy(page)
        assert "'unsafe-inline'" in csp["script-src"] and csp["frame-ancestors"] == "'none'"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert_locked_down(monitored.test_client().get("/"))  # the shop itself keeps the strict policy
    finally:
        with monitored.app_context():
            db.engine.dispose()


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"hx-on|hx-vars|js:|javascript:|hx-trigger=\"[^\"]*\[", re.I), "htmx code that needs eval"),
]


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")
                                            if p.relative_to(TEMPLATES).parts[0] != "email"))
def test_no_page_template_has_inline_code_the_policy_would_block(template):
    """Emails are not pages (mail clients need inline styles); every page is served under the CSP."""
    html = (TEMPLATES / template).read_text()
    found = [what for pattern, what in INLINE if pattern.search(html)]
    assert not found, f"{template} has {', '.join(found)}: move it to static/"

"""Dashboard sessions end when they should: at logout and at a password change (every copy
of the cookie, on every device), a fixed time after signing in, and never through a bad
``next``. The cookie is Secure on an https site, and behind a trusted proxy each client
keeps its own sign-in budget."""
from __future__ import annotations

from datetime import timedelta

import pytest
from dashboard_helpers import PASSWORD, add_organizer, csrf_token, post, sign_in
from testenv import TEST_DATABASE_URL, TEST_REDIS_URL

from eventsite import create_app
from eventsite.infra.db import db
from eventsite.web.dashboard.auth import LOGIN_LIMIT

EMAIL = "owner@example.test"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def organizer(app):
    with app.app_context():
        return add_organizer(EMAIL)


def signed_in(client) -> bool:
    return client.get("/dashboard/").status_code == 200


def copy_of_cookie(app, client):
    """Another browser holding the same session cookie (as a thief with a copy would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_cookie_stops_working_at_logout(app, organizer, client):
    assert sign_in(client, EMAIL).status_code == 302
    thief = copy_of_cookie(app, client)
    assert signed_in(thief)

    response = post(client, "/dashboard/logout")

    assert response.status_code == 302 and response.location == "/dashboard/login"
    assert "You are logged out, on every device." in client.get("/dashboard/login").get_data(as_text=True)
    assert thief.get("/dashboard/").location.startswith("/dashboard/login")
    assert not signed_in(client)


def test_logging_out_ends_every_device_and_says_so(app, organizer):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, EMAIL), sign_in(laptop, EMAIL)
    assert "Log out everywhere" in laptop.get("/dashboard/").get_data(as_text=True)
    post(laptop, "/dashboard/logout")
    assert not signed_in(phone) and not signed_in(laptop)
    assert sign_in(phone, EMAIL).status_code == 302 and signed_in(phone)  # signing in again works


def test_a_password_change_ends_every_other_session(app, organizer, client):
    sign_in(client, EMAIL)
    thief = copy_of_cookie(app, client)
    other_device = app.test_client()
    sign_in(other_device, EMAIL)

    response = post(client, "/dashboard/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 302 and response.location == "/dashboard/"
    assert "Every other device was logged out" in client.get("/dashboard/").get_data(as_text=True)
    assert signed_in(client)  # the device that changed it stays signed in
    assert not signed_in(thief) and not signed_in(other_device)
    fresh = app.test_client()
    assert sign_in(fresh, EMAIL, PASSWORD).status_code == 401
    assert sign_in(fresh, EMAIL, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("current, new, status, message", [
    ("not my password", NEW_PASSWORD, 422, "Your current password is not this one."),
    (PASSWORD, "aaaaaaaaaaaa", 422, "Repeats like"),
    (PASSWORD, "short", 422, "at least 10 characters"),
])
def test_a_refused_password_change_changes_nothing(app, organizer, client, snapshot, current, new, status, message):
    sign_in(client, EMAIL)
    thief = copy_of_cookie(app, client)
    before = snapshot()

    response = post(client, "/dashboard/password", {"current_password": current, "new_password": new})

    assert response.status_code == status and message in response.get_data(as_text=True)
    assert snapshot() == before
    assert signed_in(client) and signed_in(thief)


def test_the_password_form_needs_its_csrf_token(app, organizer, client, snapshot):
    sign_in(client, EMAIL)
    before = snapshot()
    response = client.post("/dashboard/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code in (400, 422) and snapshot() == before


def test_a_session_ends_its_lifetime_after_signing_in(app, organizer, client, frozen):
    lifetime = app.permanent_session_lifetime
    assert lifetime == timedelta(hours=12)  # SESSION_LIFETIME_HOURS' default
    response = sign_in(client, EMAIL)
    assert "Expires=" in response.headers["Set-Cookie"]  # a permanent cookie, not a browser-session one

    frozen.advance(lifetime - timedelta(seconds=1))
    assert signed_in(client)
    frozen.advance(timedelta(seconds=1))
    expired = client.get("/dashboard/")
    assert expired.status_code == 302 and expired.location.startswith("/dashboard/login")


def test_the_cookie_is_secure_when_the_site_is_https(app, organizer, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://tickets.example")
    https_app = second_app(app)
    try:
        response = sign_in(https_app.test_client(), EMAIL)
        assert response.status_code == 302
        assert "Secure" in cookie_attributes(response)
    finally:
        close(https_app)
    plain = sign_in(app.test_client(), EMAIL)  # the suite's app: http://127.0.0.1
    assert "Secure" not in cookie_attributes(plain)


def cookie_attributes(response) -> list[str]:
    return [part.strip() for part in response.headers["Set-Cookie"].split(";")]


@pytest.mark.parametrize("target", [
    "/dashboard/%0d%0aSet-Cookie:%20stolen=1",  # a header injection attempt: CR/LF
    "/dashboard/%0a",
    "/%09/evil.example/",  # a tab, which browsers drop: "//evil.example/"
    "/dashboard/%1b[2J",  # an escape character
    "/dashboard/%7f",
])
def test_next_with_control_characters_goes_to_the_dashboard(app, organizer, target):
    client = app.test_client()
    response = client.post(f"/dashboard/login?next={target}", data={
        "csrf_token": csrf_token(client), "email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/dashboard/"
    assert signed_in(client)


# --- behind a reverse proxy ------------------------------------------------------

def second_app(app, **overrides):
    """Another app on the suite's database and Redis (settings read from the environment again)."""
    made = create_app({
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0},
        "RATELIMIT_ENABLED": False, **overrides})
    _reset_limits(made)
    return made


def _reset_limits(made) -> None:
    if made.config["RATELIMIT_ENABLED"]:  # switched off, the limiter has no storage to reset
        made.extensions["limiter"].reset()


def close(made) -> None:
    _reset_limits(made)
    with made.app_context():
        db.engine.dispose()


PROXY = "10.0.0.1"  # every request reaches the app from the proxy's address


def failed_logins(app_, forwarded_for: str, email: str, count: int) -> list[int]:
    client = app_.test_client()
    environ = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}
    token = csrf_token(client)
    return [client.post("/dashboard/login", data={"csrf_token": token, "email": email, "password": "guess"},
                        environ_base=environ).status_code for _ in range(count)]


def test_behind_a_trusted_proxy_each_client_has_its_own_login_budget(app, organizer):
    allowed = int(LOGIN_LIMIT.split()[0])
    proxied = second_app(app, RATELIMIT_ENABLED=True, TRUSTED_PROXIES=1)
    try:
        assert failed_logins(proxied, "203.0.113.7", "a@example.test", allowed + 1) == [401] * allowed + [429]
        # Another client behind the same proxy (another account, so that budget is not the one spent).
        assert failed_logins(proxied, "198.51.100.9", "b@example.test", 1) == [401]
    finally:
        close(proxied)


def test_without_trusted_proxies_the_forwarded_header_is_not_believed(app, organizer):
    """The default: a client cannot pick its own address by sending X-Forwarded-For."""
    allowed = int(LOGIN_LIMIT.split()[0])
    direct = second_app(app, RATELIMIT_ENABLED=True)
    try:
        assert failed_logins(direct, "203.0.113.7", "a@example.test", allowed) == [401] * allowed
        assert failed_logins(direct, "198.51.100.9", "b@example.test", 1) == [429]  # the same (proxy's) budget
    finally:
        close(direct)

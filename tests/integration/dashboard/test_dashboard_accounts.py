"""Sign up, log in, log out, rate limiting, session cookie, and `flask organizer create`."""
from __future__ import annotations

import re

import pytest
from dashboard_helpers import PASSWORD, csrf_token, post, sign_in
from sqlalchemy import select
from testenv import TEST_DATABASE_URL, TEST_REDIS_URL
from werkzeug.security import check_password_hash

from eventsite import create_app
from eventsite.domain.models import Organizer
from eventsite.infra.db import db
from eventsite.web.dashboard.auth import LOGIN_LIMIT

GENERIC = "Email or password is incorrect."
ALERT = re.compile(r'role="alert">([^<]*)<')


def organizers(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(o.email, o.password_hash) for o in db.session.scalars(select(Organizer).order_by(Organizer.id))]


def test_signup_creates_a_hashed_account_that_can_log_in(app, client):
    response = post(client, "/dashboard/signup", {"name": "Ada", "email": " Ada@Example.test ",
                                                  "password": "long enough pass"})
    # The same answer as for a taken address (tests/integration/security/test_accounts.py): not signed in.
    assert response.status_code == 200 and "Check your inbox to continue" in response.get_data(as_text=True)
    [(email, password_hash)] = organizers(app)
    assert email == "ada@example.test"
    assert password_hash.startswith("scrypt:") and check_password_hash(password_hash, "long enough pass")
    assert sign_in(client, "ada@example.test", "long enough pass").status_code == 302
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "My events" in page and "Log out" in page


@pytest.mark.parametrize("data, status, message", [
    ({"email": "owner@example.test", "password": "short"}, 422, "at least 10"),  # a taken address: the same rules
    ({"email": "not-an-email", "password": "long enough pass"}, 422, "valid email"),
    ({"email": "new@example.test", "password": "short"}, 422, "at least 10"),
])
def test_signup_refusals_change_nothing(app, world, client, snapshot, data, status, message):
    before = snapshot()
    response = post(client, "/dashboard/signup", data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


def test_login_then_logout(app, world, client):
    response = sign_in(client, "OWNER@example.test")
    assert response.status_code == 302 and response.location == "/dashboard/"
    assert "Event owned" in client.get("/dashboard/").get_data(as_text=True)
    response = client.post("/dashboard/logout", data={"csrf_token": csrf_token(client, "/dashboard/")})
    assert response.status_code == 302 and response.location == "/dashboard/login"
    assert client.get("/dashboard/").status_code == 302


def test_session_cookie_is_http_only_and_same_site(world, client):
    response = sign_in(client, "owner@example.test")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_and_unknown_email_get_the_same_generic_answer(world, client):
    answers = []
    for email, password in [("owner@example.test", "wrong password"), ("nobody@example.test", PASSWORD)]:
        response = sign_in(client, email, password)
        assert response.status_code == 401
        answers.append(ALERT.findall(response.get_data(as_text=True)))
        assert client.get("/dashboard/").status_code == 302  # still signed out
    assert answers[0] == answers[1] == [GENERIC]


def test_login_follows_next_only_within_the_site(world, app):
    for target, expected in [(f"/dashboard/events/{world.event_id}", f"/dashboard/events/{world.event_id}"),
                             ("https://evil.example/", "/dashboard/"), ("//evil.example/x", "/dashboard/"),
                             ("/%5Cevil.example/x", "/dashboard/")]:
        client = app.test_client()
        response = client.post(f"/dashboard/login?next={target}", data={
            "csrf_token": csrf_token(client), "email": "owner@example.test", "password": PASSWORD})
        assert response.location == expected


def test_login_is_rate_limited(world):
    """With limits on (as in production), the attempt past the limit is refused even with the right password."""
    limited = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0},
    })
    limited.extensions["limiter"].reset()
    allowed = int(LOGIN_LIMIT.split()[0])
    client = limited.test_client()
    token = csrf_token(client)
    for _ in range(allowed):
        response = client.post("/dashboard/login", data={"csrf_token": token, "email": "owner@example.test",
                                                         "password": "guess"})
        assert response.status_code == 401
    response = client.post("/dashboard/login", data={"csrf_token": token, "email": "owner@example.test",
                                                     "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302
    limited.extensions["limiter"].reset()
    with limited.app_context():
        db.engine.dispose()


# --- flask organizer create -------------------------------------------------------

def run_cli(app, *args, env=None, input=None):
    return app.test_cli_runner().invoke(args=["organizer", "create", *args], env=env, input=input)


def test_cli_creates_an_organizer_who_can_log_in(app, client):
    result = run_cli(app, "ops@example.test", "--name", "Ops", "--password", "operator secret")
    assert result.exit_code == 0, result.output
    assert "Created organizer ops@example.test" in result.output
    assert sign_in(client, "ops@example.test", "operator secret").status_code == 302


def test_cli_reads_the_password_from_env_or_prompt(app):
    assert run_cli(app, "env@example.test", env={"ORGANIZER_PASSWORD": "from the environment"}).exit_code == 0
    result = run_cli(app, "prompt@example.test", input="typed at prompt\ntyped at prompt\n")
    assert result.exit_code == 0, result.output
    hashes = dict(organizers(app))
    assert check_password_hash(hashes["env@example.test"], "from the environment")
    assert check_password_hash(hashes["prompt@example.test"], "typed at prompt")


@pytest.mark.parametrize("email, password, message", [
    ("bad-email", "operator secret", "valid email"),
    ("ops@example.test", "short", "at least 10"),
    ("owner@example.test", "operator secret", "already exists"),
])
def test_cli_bad_input_exits_2_with_a_line_on_stderr(app, world, snapshot, email, password, message):
    before = snapshot()
    result = run_cli(app, email, "--password", password)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("error: ")
    assert snapshot() == before

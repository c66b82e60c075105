"""Accounts: sign-up tells nobody which addresses have an account (the owner learns it by
email), passwords easy to guess are refused with advice, and password guessing is limited
per account as well as per client."""
from __future__ import annotations

import re

import pytest
from dashboard_helpers import PASSWORD, add_organizer, csrf_token, post
from fixtures_mail import html_of, text_of
from sqlalchemy import select
from testenv import TEST_DATABASE_URL, TEST_REDIS_URL

from eventsite import create_app
from eventsite.domain.models import Organizer
from eventsite.infra.db import db
from eventsite.web.dashboard.auth import LOGIN_ACCOUNT_LIMIT

TAKEN, NEW = "owner@example.test", "newcomer@example.test"
STRONG = "tulips under a violet sky"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture
def owner(app):
    with app.app_context():
        return add_organizer(TAKEN)


def organizers(app) -> dict[str, str]:
    with app.app_context():
        return {o.email: o.password_hash for o in db.session.scalars(select(Organizer))}


def sign_up(app, email: str, password: str = STRONG, name: str = "Ada"):
    client = app.test_client()
    return post(client, "/dashboard/signup", {"name": name, "email": email, "password": password})


def same_page(page: str, address: str) -> str:
    """The page without what differs per request anyway (the CSRF token) and the address typed."""
    token = CSRF_META.search(page).group(1)
    return page.replace(token, "TOKEN").replace(address, "ADDRESS")


def test_signing_up_answers_the_same_for_a_new_and_a_taken_address(app, owner, inbox, run_jobs):
    before = organizers(app)

    new = sign_up(app, NEW)
    taken = sign_up(app, TAKEN)

    assert new.status_code == taken.status_code == 200
    page = new.get_data(as_text=True)
    assert "Check your inbox to continue" in page
    assert same_page(page, NEW) == same_page(taken.get_data(as_text=True), TAKEN)
    accounts = organizers(app)
    assert accounts[TAKEN] == before[TAKEN]  # the existing account is untouched
    assert set(accounts) == {TAKEN, NEW}

    run_jobs("mail")
    [welcome] = inbox.to(NEW)
    assert welcome["Subject"] == "Your organizer account at eventsite is ready"
    assert "Your organizer account for this address is ready" in text_of(welcome)
    assert "/dashboard/login" in text_of(welcome) and "/dashboard/login" in html_of(welcome)
    [warning] = inbox.to(TAKEN)
    assert warning["Subject"] == "Someone tried to sign up at eventsite with your address"
    text = text_of(warning)
    assert "already has an organizer account" in text and "Nothing was changed" in text
    assert "If it was you, log in" in text and "/dashboard/login" in text


def test_the_new_account_logs_in_with_its_password_and_the_taken_one_keeps_its_own(app, owner):
    sign_up(app, NEW), sign_up(app, TAKEN)
    for email, password, status in [(NEW, STRONG, 302), (TAKEN, STRONG, 401), (TAKEN, PASSWORD, 302)]:
        client = app.test_client()
        response = client.post("/dashboard/login", data={"csrf_token": csrf_token(client), "email": email,
                                                          "password": password})
        assert response.status_code == status, email


@pytest.mark.parametrize("password, advice", [
    ("aaaaaaaaaa", 'Repeats like "aaa" are easy to guess.'),
    ("password123", "This is a very common password."),
    ("qwertyuiop", "This is a top-100 common password."),
    ("{email}", "Add another word or two."),  # the address itself
    ("short", "at least 10 characters"),
])
@pytest.mark.parametrize("email", [NEW, TAKEN])
def test_passwords_easy_to_guess_are_refused_with_advice(app, owner, snapshot, inbox, run_jobs, password, advice,
                                                         email):
    before = snapshot()
    response = sign_up(app, email, password.format(email=email))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert advice.replace('"', "&#34;") in page or advice in page
    assert "Check your inbox" not in page
    assert snapshot() == before
    run_jobs("mail")
    assert inbox.to(email) == []


def test_the_name_counts_as_a_guessable_word(app, snapshot):
    before = snapshot()
    assert sign_up(app, NEW, "xylophantquorrbeck", name="Xylophant Quorrbeck").status_code == 422
    response = sign_up(app, NEW, "Quorrbeck2024", name="Xylophant Quorrbeck")
    assert response.status_code == 422 and "easy to guess" in response.get_data(as_text=True)
    assert snapshot() == before


def test_the_operator_command_refuses_a_weak_password(app, snapshot):
    before = snapshot()
    result = app.test_cli_runner().invoke(args=["organizer", "create", NEW, "--password", "aaaaaaaaaaaa"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: This password is easy to guess.") and "Repeats like" in result.stderr
    assert snapshot() == before
    assert app.test_cli_runner().invoke(args=["organizer", "create", NEW, "--password", STRONG]).exit_code == 0


# --- guessing one account's password from many addresses -----------------------------

@pytest.fixture
def limited_app(limited):
    return limited()


def attempt(app_, address: str, email: str, password: str = "guess"):
    client = app_.test_client()
    return client.post("/dashboard/login", environ_base={"REMOTE_ADDR": address}, data={
        "csrf_token": csrf_token(client), "email": email, "password": password})


def test_login_is_limited_per_account_whatever_the_address(limited_app, owner):
    allowed = int(LOGIN_ACCOUNT_LIMIT.split()[0])
    statuses = [attempt(limited_app, f"10.1.0.{n}", " Owner@Example.test ").status_code for n in range(allowed)]
    assert statuses == [401] * allowed

    refused = attempt(limited_app, "10.2.0.1", TAKEN, PASSWORD)  # a fresh address, even the right password

    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Too many attempts. Wait a minute and try again." in refused.get_data(as_text=True)
    # Another account from those addresses is not held up.
    assert attempt(limited_app, "10.1.0.1", "someone-else@example.test").status_code == 401

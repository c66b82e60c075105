"""Helpers for the dashboard tests (a unique module name, so it cannot clash with other areas' conftest)."""
from __future__ import annotations

import re

from werkzeug.security import generate_password_hash

from eventsite.domain.models import Event, Organizer
from eventsite.infra.db import db
from eventsite.services import paying, reserving

PASSWORD = "correct horse battery"
# Hashed once: scrypt is deliberately slow and every test signs in.
PASSWORD_HASH = generate_password_hash(PASSWORD)
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/dashboard/login") -> str:
    """The token a rendered page carries (every page sets it in a meta tag)."""
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST like the browser does: with the CSRF token of the current session."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def refused(client, path: str, message: str, snapshot, status: int = 409):
    """POST ``path``: refused with ``status`` and ``message`` on the page, and no table changed."""
    before = snapshot()
    response = post(client, path)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert snapshot() == before
    return response


def sign_in(client, email: str, password: str = PASSWORD):
    return post(client, "/dashboard/login", {"email": email, "password": password})


def add_organizer(email: str) -> int:
    organizer = Organizer(email=email, name=email.split("@")[0], password_hash=PASSWORD_HASH)
    db.session.add(organizer)
    db.session.commit()
    return organizer.id


def reserve(event_id: int, quantities: dict[int, int], email: str = "buyer@example.test", **kwargs):
    return reserving.reserve(db.session.get(Event, event_id).slug, quantities, email, **kwargs)


def pay(order_id: int) -> None:
    assert paying.confirm_payment(order_id, reason="test payment", actor="test")


def log_in_in_browser(page, base_url: str, email: str) -> None:
    """In Chromium: sign in on the login form and land on "My events"."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/dashboard/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    expect(page.locator("h1")).to_have_text("My events")


def sqlite_app(tmp_path):
    """The app on its own SQLite file, migrated, as the quick start runs it."""
    from flask_migrate import upgrade

    from eventsite import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'eventsite.db'}"})
    with app.app_context():
        upgrade()
    return app

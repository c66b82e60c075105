"""Fixtures for the JSON API tests, and the row counts every tier uses to prove nothing changed."""
from __future__ import annotations

import pytest
from invariants import row_counts
from sqlalchemy import func, select

from eventsite import create_app
from eventsite.infra.db import db
from eventsite.services import accounts

API = "/api/v1"


@pytest.fixture
def table_counts(app):
    """Rows in the order tables (orders, items, audit rows), to prove a refused request changed nothing."""

    def counts() -> tuple[int, int, int]:
        with app.app_context():
            return row_counts()

    return counts


@pytest.fixture
def reserve(client):
    """POST a reservation through the API; returns the response."""

    def post(slug: str, items: list[tuple[int, int]], email: str = "buyer@example.test", **kwargs):
        body = {"email": email, "items": [{"ticket_type_id": tt, "quantity": q} for tt, q in items]}
        return client.post(f"{API}/events/{slug}/reservations", json=body, **kwargs)

    return post


@pytest.fixture
def organizer_token(app):
    """Give an organizer (created by make_event) an API token; returns the Authorization header."""

    def issue(email: str = "org@example.test") -> dict[str, str]:
        with app.app_context():
            token = accounts.rotate_api_token(email)
        return {"Authorization": f"Bearer {token}"}

    return issue


@pytest.fixture
def limited(app):
    """``limited(**config)``: a second app on the same database, Redis and mail server with rate
    limits on as in production (the suite's app has them off), reset and closed after the test."""
    made = []

    def make(**config):
        shared = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "MAIL_PORT")
        second = create_app({**{key: app.config[key] for key in shared},
                             "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0},
                             "RATELIMIT_ENABLED": True, **config})
        second.extensions["limiter"].reset()
        made.append(second)
        return second

    yield make
    for second in made:
        second.extensions["limiter"].reset()
        with second.app_context():
            db.engine.dispose()

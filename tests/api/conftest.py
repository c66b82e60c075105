"""Fixtures for the JSON API tests."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from eventsite.api import tokens
from eventsite.extensions import db
from eventsite.models import Order, OrderEvent, OrderItem, Organizer

API = "/api/v1"


@pytest.fixture
def table_counts(app):
    """Rows in the order tables, to prove a refused request changed nothing."""

    def counts() -> tuple[int, int, int]:
        with app.app_context():
            return tuple(db.session.scalar(select(func.count()).select_from(model))
                         for model in (Order, OrderItem, OrderEvent))

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
            organizer = db.session.scalars(select(Organizer).where(Organizer.email == email)).one()
            token = tokens.rotate(organizer)
            db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return issue

"""Helpers and fixtures for the buyer-page tests: CSRF tokens from rendered pages,
holds by other buyers."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from eventsite.domain.models import Event, Order, OrderEvent
from eventsite.infra.db import db
from eventsite.services import reserving

HX = {"HX-Request": "true"}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def buyer(client):
    """A buyer's browser (the test client), with a helper that submits the reserve form."""

    class Buyer:
        http = client

        def open_event(self, slug="rush"):
            response = client.get(f"/events/{slug}")
            assert response.status_code == 200
            return response

        def reserve(self, quantities: dict[int, object], email="ann@example.test", slug="rush", headers=None,
                    token=None):
            token = token or csrf_from(self.open_event(slug).text)
            form = {"csrf_token": token, "email": email, **{f"qty-{k}": str(v) for k, v in quantities.items()}}
            return client.post(f"/events/{slug}/reserve", data=form, headers=headers or {})

    return Buyer()


@pytest.fixture
def hold_for_other(app):
    """Place a hold as some other buyer, straight through the inventory."""

    def place(event_id: int, quantities: dict[int, int], email="other@example.test") -> str:
        with app.app_context():
            order = reserving.reserve(db.session.get(Event, event_id).slug, quantities, email)
            return order.token

    return place

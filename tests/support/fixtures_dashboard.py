"""Dashboard fixtures: organizers with real (scrypt) passwords, signed-in clients,
and a snapshot of every table for "refused and nothing changed" checks."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from dashboard_helpers import add_organizer, pay, reserve, sign_in
from sqlalchemy import text

from eventsite.domain.models import Base
from eventsite.infra.db import db


@dataclass
class World:
    """Two organizers, each with an event; the owner's event has a hold and a paid order."""

    owner_id: int
    other_id: int
    event_id: int
    ticket_type_ids: list[int]
    held_order_id: int
    paid_order_id: int
    other_event_id: int
    other_ticket_type_id: int
    other_order_id: int


@pytest.fixture
def world(app, make_event) -> World:
    with app.app_context():
        owner_id = add_organizer("owner@example.test")
        other_id = add_organizer("other@example.test")
    event_id, tt_ids = make_event({"name": "GA", "capacity": 20}, {"name": "VIP", "capacity": 5, "price": 5000},
                                  slug="owned", organizer_email="owner@example.test")
    other_event_id, (other_tt,) = make_event(slug="theirs", organizer_email="other@example.test")
    with app.app_context():
        held = reserve(event_id, {tt_ids[0]: 2}).id
        paid = reserve(event_id, {tt_ids[1]: 1}, "payer@example.test").id
        pay(paid)
        other_order = reserve(other_event_id, {other_tt: 1}).id
    return World(owner_id, other_id, event_id, tt_ids, held, paid, other_event_id, other_tt, other_order)


@pytest.fixture
def owner(app, world):
    client = app.test_client()
    assert sign_in(client, "owner@example.test").status_code == 302
    return client


@pytest.fixture
def other(app, world):
    client = app.test_client()
    assert sign_in(client, "other@example.test").status_code == 302
    return client


@pytest.fixture
def snapshot(app):
    """Call to get every row of every table; compare before and after a refused request."""

    def take() -> dict[str, list]:
        with app.app_context():
            return {table.name: [tuple(row) for row in db.session.execute(
                        text(f"SELECT * FROM {table.name} ORDER BY 1"))]
                    for table in Base.metadata.sorted_tables}

    return take


@pytest.fixture
def organizer(app):
    """A signed-in client of the organizer who owns the test's events (room_event's, "org@example.test")."""
    with app.app_context():
        add_organizer("org@example.test")
    client = app.test_client()
    assert sign_in(client, "org@example.test").status_code == 302
    return client

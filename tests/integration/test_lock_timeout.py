"""A stuck lock holder cannot make buyers wait without bound: past LOCK_TIMEOUT_SECONDS
the request is answered 503 "busy, try again" with Retry-After, and nothing changes."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from shop_support import buyer, csrf_from  # noqa: F401 (fixtures)
from sqlalchemy import create_engine, text
from testenv import TEST_DATABASE_URL

from eventsite.infra.db import db


@pytest.fixture
def short_lock_timeout(app, settings):
    settings(LOCK_TIMEOUT_SECONDS=0.2)


@contextmanager
def lock_held_elsewhere(ticket_type_id: int):
    """Another connection (another process, say, stuck mid-transaction) holds the ticket type's row lock."""
    engine = create_engine(TEST_DATABASE_URL)
    try:
        with engine.connect() as other:
            other.execute(text("SELECT id FROM ticket_types WHERE id = :id FOR UPDATE"), {"id": ticket_type_id})
            yield
            other.rollback()
    finally:
        engine.dispose()


def test_the_api_answers_busy_with_retry_after_and_changes_nothing(client, make_event, short_lock_timeout,
                                                                   table_counts):
    _, (ga,) = make_event()
    body = {"email": "ann@example.test", "items": [{"ticket_type_id": ga, "quantity": 1}]}
    with lock_held_elsewhere(ga):
        response = client.post("/api/v1/events/rush/reservations", json=body)
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.json["error"]["code"] == "busy" and "try again" in response.json["error"]["message"]
    assert table_counts() == (0, 0, 0)
    assert client.post("/api/v1/events/rush/reservations", json=body).status_code == 201  # the lock is gone


def test_the_shop_page_says_busy_and_the_retry_goes_through(buyer, make_event, short_lock_timeout,  # noqa: F811
                                                            table_counts):
    _, (ga,) = make_event()
    token = csrf_from(buyer.open_event().text)
    with lock_held_elsewhere(ga):
        response = buyer.reserve({ga: 1}, token=token)
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "busy right now; nothing was changed" in response.text
    assert table_counts() == (0, 0, 0)
    assert buyer.reserve({ga: 1}, token=token).status_code == 303


def test_lowering_capacity_waits_no_longer_than_the_timeout(app, make_event, short_lock_timeout):
    from eventsite.domain.models import TicketType
    from eventsite.infra.transactions import Busy
    from eventsite.services import catalog

    _, (ga,) = make_event({"name": "GA", "capacity": 10})
    with app.app_context():
        tt = db.session.get(TicketType, ga)
        values = {f: getattr(tt, f) for f in catalog.TICKET_TYPE_FIELDS} | {"capacity": 5}
        with lock_held_elsewhere(ga), pytest.raises(Busy):
            catalog.update_ticket_type(tt, values)
        assert db.session.get(TicketType, ga).capacity == 10

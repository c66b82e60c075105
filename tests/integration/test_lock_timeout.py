"""A stuck lock holder cannot make buyers wait without bound: past LOCK_TIMEOUT_SECONDS
the request is answered 503 "busy, try again" with Retry-After, and nothing changes."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from shop_support import buyer, csrf_from  # noqa: F401 (fixtures)
from sqlalchemy import create_engine, text
from testenv import TEST_DATABASE_URL, lock_held_elsewhere

from eventsite.domain.clock import now
from eventsite.infra.db import db
from eventsite.infra.transactions import Busy


@pytest.fixture
def short_lock_timeout(app, settings):
    settings(LOCK_TIMEOUT_SECONDS=0.2)


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
    from eventsite.services import catalog

    _, (ga,) = make_event({"name": "GA", "capacity": 10})
    with app.app_context():
        tt = db.session.get(TicketType, ga)
        values = {f: getattr(tt, f) for f in catalog.TICKET_TYPE_FIELDS} | {"capacity": 5}
        with lock_held_elsewhere(ga), pytest.raises(Busy):
            catalog.update_ticket_type(tt, values)
        assert db.session.get(TicketType, ga).capacity == 10


def test_a_deadlock_victim_is_told_busy_and_changes_nothing(app, make_event):
    """Two transactions locking two rows in opposite orders: PostgreSQL aborts one. When it is ours,
    the answer is "busy, try again" like a lock timeout (503), with nothing changed, never a 500."""
    from eventsite.domain.models import TicketType
    from eventsite.infra.transactions import write_transaction

    _, (a, b) = make_event({"name": "A", "capacity": 5}, {"name": "B", "capacity": 5})
    engine = create_engine(TEST_DATABASE_URL)
    ours_holds_a, outcome = threading.Event(), []

    def ours():
        with app.app_context():
            try:
                with write_transaction():
                    db.session.execute(text("UPDATE ticket_types SET capacity = 6 WHERE id = :id"), {"id": a})
                    ours_holds_a.set()
                    db.session.execute(text("UPDATE ticket_types SET capacity = 6 WHERE id = :id"), {"id": b})
                outcome.append("committed")
            except Busy as error:
                outcome.append(error)

    try:
        with engine.connect() as other:
            other.execute(text("SET deadlock_timeout = '30s'"))  # our side checks first, so ours is the victim
            other.execute(text("SELECT id FROM ticket_types WHERE id = :id FOR UPDATE"), {"id": b})
            thread = threading.Thread(target=ours)
            thread.start()
            assert ours_holds_a.wait(10)
            # Waits for ours to hold a while ours waits for b: a deadlock, until PostgreSQL aborts ours.
            other.execute(text("SELECT id FROM ticket_types WHERE id = :id FOR UPDATE"), {"id": a})
            thread.join(10)
            other.rollback()
    finally:
        engine.dispose()
    [error] = outcome
    assert isinstance(error, Busy) and "nothing was changed" in str(error)
    with app.app_context():
        assert [db.session.get(TicketType, tt).capacity for tt in (a, b)] == [5, 5]


def _deleted_while_reserving(app, ga: int, hold_first: str):
    """The organizer's connection takes ``hold_first`` (SQL), a buyer starts reserving ``ga`` and waits
    for it, then the organizer deletes the ticket type and commits: what the buyer was told."""
    from eventsite.domain.errors import DomainError
    from eventsite.services import reserving

    engine = create_engine(TEST_DATABASE_URL)
    outcome = []

    def buyer():
        with app.app_context():
            try:
                outcome.append(reserving.reserve("rush", {ga: 1}, "ann@example.test"))
            except (DomainError, Busy) as error:
                outcome.append(error)

    try:
        with engine.connect() as organizer:
            organizer.execute(text(hold_first))
            thread = threading.Thread(target=buyer)
            thread.start()
            waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND pid <> pg_backend_pid()")
            while not organizer.execute(waiting).scalar() and thread.is_alive():
                thread.join(0.01)  # until the buyer waits for what the organizer holds
            organizer.execute(text("DELETE FROM ticket_types WHERE id = :id"), {"id": ga})
            organizer.commit()
            thread.join(10)
    finally:
        engine.dispose()
    [told] = outcome
    return told


@pytest.mark.parametrize("organizer_holds", ["the buyer's advisory lock", "the ticket type's row"])
def test_a_ticket_type_deleted_as_a_hold_of_it_is_written_is_no_longer_on_sale(app, make_event, table_counts,
                                                                               organizer_holds):
    """The buyer waits inside the reserving transaction for what the organizer's connection holds: its own
    advisory lock, or the ticket type's row (as the dashboard's delete locks it, so the order item's
    foreign key check waits). The type is deleted meanwhile: the foreign key fails, and the buyer is told
    it is no longer on sale (409), never a 500."""
    from eventsite.domain.errors import SalesClosed
    from eventsite.domain.hoarding import _lock_key

    event_id, (ga,) = make_event()
    hold = (f"SELECT pg_advisory_xact_lock({_lock_key(event_id, 'email:ann@example.test')})"
            if organizer_holds == "the buyer's advisory lock"
            else f"SELECT id FROM ticket_types WHERE id = {ga} FOR UPDATE")
    told = _deleted_while_reserving(app, ga, hold)
    assert isinstance(told, SalesClosed) and told.http_status == 409 and "no longer on sale" in told.message
    assert table_counts() == (0, 0, 0)


def test_a_ticket_type_deleted_since_the_shared_catalog_was_read_is_refused(app, make_event, table_counts):
    """The shared catalog still lists a type deleted a moment ago: reserving checks the event as stored."""
    from eventsite.domain.errors import InvalidRequest
    from eventsite.readmodels import availability
    from eventsite.services import reserving

    _, (ga, vip) = make_event({"name": "GA", "capacity": 5}, {"name": "VIP", "capacity": 5})
    with app.app_context():
        availability.catalog_event("rush", now())  # the shared copy, with both types
        db.session.commit()
        engine = create_engine(TEST_DATABASE_URL)
        with engine.begin() as organizer:  # deleted by another process: this one's copy is not told yet
            organizer.execute(text("DELETE FROM ticket_types WHERE id = :id"), {"id": vip})
        engine.dispose()
        with pytest.raises(InvalidRequest, match="not part of this event"):
            reserving.reserve("rush", {vip: 1}, "ann@example.test")
    assert table_counts() == (0, 0, 0)

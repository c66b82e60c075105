"""Two doors scanning the same ticket at the same moment: exactly one lets it in."""
from __future__ import annotations

import threading

from races import before_statement
from sqlalchemy import select

from eventsite.domain.models import CheckIn, Event
from eventsite.infra.db import db
from eventsite.services.checkin import check_in


def door(app, event_id: int, code: str, device: str, outcomes: dict, start: threading.Barrier | None = None):
    """One door: its own app context, so its own session and connection."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        if start is not None:
            start.wait()
        outcomes[device] = check_in(event, code, device=device, by="owner@example.test")
        db.session.remove()


def in_force(app) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(CheckIn.order_id, CheckIn.seat, CheckIn.device).where(CheckIn.undone_at.is_(None)))]


def test_two_doors_at_once_let_the_ticket_in_exactly_once(app, world, codes):
    (code,) = codes(world.paid_order_id)
    for _ in range(5):  # a few rounds, so "at once" really happens in some of them
        with app.app_context():
            db.session.execute(CheckIn.__table__.delete())
            db.session.commit()
        outcomes: dict = {}
        start = threading.Barrier(2)
        threads = [threading.Thread(target=door, args=(app, world.event_id, code, name, outcomes, start))
                   for name in ("Door 1", "Door 2")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(o.outcome.value for o in outcomes.values()) == ["already", "valid"]
        winner = next(name for name, o in outcomes.items() if o.outcome == "valid")
        loser = next(o for o in outcomes.values() if o.outcome == "already")
        assert loser.device == winner and loser.ticket_type == "VIP"
        assert in_force(app) == [(world.paid_order_id, 1, winner)]


def test_a_door_that_passed_its_checks_just_as_another_let_the_ticket_in_says_already(app, world, codes):
    """Deterministic: the other door's whole scan runs just before this one takes the order's lock,
    after this one found the code genuine; the recheck under the lock sees the other's check-in."""
    (code,) = codes(world.paid_order_id)
    outcomes: dict = {}
    with app.app_context():
        event = db.session.get(Event, world.event_id)
        locking = lambda sql: sql.lstrip().upper().startswith("SELECT") and "FOR UPDATE" in sql.upper()  # noqa: E731
        with before_statement(db.engine, locking,
                              lambda: door(app, world.event_id, code, "Door 2", outcomes)) as raced:
            mine = check_in(event, code, device="Door 1", by="owner@example.test")
        assert raced == [True]
    assert outcomes["Door 2"].outcome == "valid"
    assert (mine.outcome, mine.device) == ("already", "Door 2")
    assert in_force(app) == [(world.paid_order_id, 1, "Door 2")]

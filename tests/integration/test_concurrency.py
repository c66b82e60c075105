"""Buyers racing for the last tickets, each thread on its own database connection."""
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from flask_migrate import upgrade
from invariants import assert_never_oversold

from eventsite import create_app
from eventsite.domain.clock import now
from eventsite.domain.errors import SoldOut
from eventsite.domain.models import Event, Organizer, TicketType
from eventsite.infra.db import db
from eventsite.readmodels import availability
from eventsite.services import reserving


def race(app, event_id: int, wishes: list[dict[int, int]], workers: int) -> Counter:
    """Every wish reserved at once (released together by a gate); returns outcome counts."""
    gate = threading.Event()

    def buyer(n: int, wish: dict[int, int]) -> str:
        with app.app_context():
            event = db.session.get(Event, event_id)
            event.ticket_types  # load, then give the connection back before the start  # noqa: B018
            db.session.commit()
            gate.wait()
            try:
                reserving.reserve(event.slug, wish, f"buyer{n}@example.test")
                return "granted"
            except SoldOut:
                return "sold out"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(buyer, n, wish) for n, wish in enumerate(wishes)]
        gate.set()
        return Counter(f.result() for f in futures)  # any other exception fails the test


def test_200_buyers_race_for_10_tickets(app, ctx, make_event):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 10, "per_order_limit": 1})

    outcome = race(app, event_id, [{ga: 1}] * 200, workers=200)

    assert outcome == Counter({"granted": 10, "sold out": 190})
    figures = availability.figures(event_id)[ga]
    assert (figures.held, figures.available) == (10, 0)
    assert_never_oversold(event_id)


def test_multi_type_orders_in_opposite_orders_neither_deadlock_nor_oversell(app, ctx, make_event):
    event_id, (a, b) = make_event({"name": "A", "capacity": 15}, {"name": "B", "capacity": 15})
    # Half ask "A then B", half "B then A", with a single-type buyer mixed in.
    wishes = [{a: 1, b: 1}, {b: 1, a: 1}, {a: 1}, {b: 1}] * 15

    outcome = race(app, event_id, wishes, workers=60)

    figures = availability.figures(event_id)
    assert figures[a].held == 15 and figures[b].held == 15
    assert outcome["granted"] + outcome["sold out"] == 60
    assert_never_oversold(event_id)


def test_sqlite_serializes_the_race_too(tmp_path):
    """The embedded quick-start database gives the same guarantee (BEGIN IMMEDIATE)."""
    lite = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'race.db'}"})
    with lite.app_context():
        upgrade()
        event = Event(organizer=Organizer(email="o@example.test", password_hash="!"), slug="lite",
                      title="Lite", starts_at=now(), published=True,
                      ticket_types=[TicketType(name="GA", price=100, capacity=5, per_order_limit=1)])
        db.session.add(event)
        db.session.commit()
        event_id, ga = event.id, event.ticket_types[0].id

        outcome = race(lite, event_id, [{ga: 1}] * 40, workers=40)

        assert outcome == Counter({"granted": 5, "sold out": 35})
        db.session.commit()  # a SQLite read transaction keeps its snapshot: start a new one
        assert availability.figures(event_id)[ga].held == 5
        assert_never_oversold(event_id)

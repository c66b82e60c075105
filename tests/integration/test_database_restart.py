"""PostgreSQL restarting under load: every answer is a success or a clear 503 with
Retry-After, never a 500, nothing half-written, and the shop serves again after."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from own_services import own_postgres, own_redis
from sqlalchemy import func, select, text

from eventsite import create_app
from eventsite.domain.clock import clock
from eventsite.domain.models import Event, Order, OrderEvent, OrderItem, Organizer, TicketType
from eventsite.infra import schema
from eventsite.infra.db import db


def test_a_database_restart_is_answered_503_never_500(capsys):
    with own_postgres() as postgres, own_redis() as redis:
        app = create_app({"TESTING": True, "SECRET_KEY": "s", "SQLALCHEMY_DATABASE_URI": postgres.url,
                          "REDIS_URL": redis.url, "RATELIMIT_ENABLED": False,
                          "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 4}})
        schema.recreate(app)
        with app.app_context():
            event = Event(organizer=Organizer(email="o@example.test", password_hash="!"), slug="rush",
                          title="Rush", starts_at=clock.now() + timedelta(days=9), published=True, currency="EUR",
                          max_holds_per_client=0,  # three buyers behind one address, as through a proxy
                          ticket_types=[TicketType(name="GA", price=1000, capacity=100000)])
            db.session.add(event)
            db.session.commit()
            ga = event.ticket_types[0].id
        answers: list[int] = []
        stop = threading.Event()

        def wait_until(condition) -> None:
            deadline = time.monotonic() + 60
            while not condition():
                assert time.monotonic() < deadline and all(t.is_alive() for t in buyers), answers[-20:]
                stop.wait(0.05)

        def buy(buyer: int):
            client = app.test_client()
            n = 0
            while not stop.is_set():
                n += 1
                body = {"email": f"b{buyer}-{n}@example.test", "items": [{"ticket_type_id": ga, "quantity": 1}]}
                response = client.post("/api/v1/events/rush/reservations", json=body)
                unavailable = response.status_code == 503 and response.json["error"]["code"] == "unavailable"
                answers.append(response.status_code if response.status_code != 503 or unavailable else 0)

        buyers = [threading.Thread(target=buy, args=(buyer,)) for buyer in range(3)]
        for thread in buyers:
            thread.start()
        try:
            wait_until(lambda: len(answers) >= 20)
            postgres.stop()
            seen = len(answers)
            wait_until(lambda: len(answers) >= seen + 20)
            postgres.start()
            seen = len(answers)
            wait_until(lambda: answers[seen:].count(201) >= 20)
        finally:
            stop.set()
            for thread in buyers:
                thread.join(timeout=30)
        assert set(answers) <= {201, 503} and 503 in answers and answers.count(201) >= 40
        with app.app_context():  # every order is whole (items, audit row): nothing half-written
            orders = db.session.scalar(select(func.count()).select_from(Order))
            # A commit whose answer the restart cut off may have landed: more orders, never fewer.
            assert orders >= answers.count(201)
            assert db.session.scalar(select(func.count()).select_from(OrderItem)) == orders
            assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == orders
            db.engine.dispose()
    with capsys.disabled():
        print(f"\n[fault run] PostgreSQL stopped and started under 3 buyers: {len(answers)} answers, "
              f"{answers.count(201)} holds placed, {answers.count(503)} answered 503 with Retry-After, "
              f"{len(answers) - answers.count(201) - answers.count(503)} 5xx or other; {orders} orders, all whole.")


def test_a_connection_cut_after_the_answer_is_dropped_not_raised(app, client, make_event):
    """The request made its answer; then the server ended its connection (a restart, an
    idle kill). Ending the request's session must not turn that answer into an error."""
    make_event()
    context = app.app_context()
    context.push()
    backend = db.session.scalar(text("SELECT pg_backend_pid()"))  # leaves a transaction open
    with db.engine.connect() as other:
        assert other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    context.pop()  # the teardown's rollback meets a dead connection
    assert client.get("/events/rush").status_code == 200

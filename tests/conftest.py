"""Shared fixtures: a real PostgreSQL database migrated with the real migrations,
real Redis, the injectable clock, factories, a live server and Chromium."""
from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from testenv import T0, TEST_DATABASE_URL, TEST_REDIS_URL, truncate_all
from werkzeug.serving import make_server

from eventsite import create_app
from eventsite.domain.clock import clock
from eventsite.domain.models import Event, Organizer, TicketType
from eventsite.infra import room_store, schema
from eventsite.infra.db import db
from eventsite.readmodels import availability_cache

pytest_plugins = ["fixtures_payments", "fixtures_api", "fixtures_dashboard", "fixtures_jobs", "fixtures_mail",
                  "room_support", "axe_support"]


@pytest.fixture(scope="session")
def app(smtp_server):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": int(os.environ.get("TEST_DB_POOL", "20")), "max_overflow": 0,
                                      "pool_timeout": 60},
        "REDIS_URL": TEST_REDIS_URL,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        "MAIL_PORT": smtp_server.port,  # every message of every test goes over SMTP to the session's server
    })
    schema.recreate(app)  # production's schema, through the real migrations
    return app


@pytest.fixture(autouse=True)
def _isolated(request):
    """Every test starts with empty tables and a running clock."""
    yield
    clock.unfreeze()
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        with app.app_context():
            truncate_all()
            availability_cache.clear()  # ids restart, so cached figures would be another test's
            room_store.clear()  # and so would waiting rooms' queues


@pytest.fixture
def ctx(app):
    """An application context, as a request or a job would have."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def frozen():
    """The clock, frozen at T0; tests move it with frozen.advance(...)."""
    clock.freeze(T0)
    return clock


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_event(app):
    """Create a published event with ticket types; returns the event id and type ids."""

    def factory(*types: dict, slug: str = "rush", hold_minutes: int = 15, published: bool = True,
                organizer_email: str = "org@example.test", currency: str = "EUR",
                locale: str = "en", max_holds_per_client: int = 4,
                release_cooldown_seconds: int = 60, **event_fields) -> tuple[int, list[int]]:
        types = types or ({"name": "GA", "capacity": 10},)
        with app.app_context():
            organizer = db.session.query(Organizer).filter_by(email=organizer_email).one_or_none() or Organizer(
                email=organizer_email, name="Org", password_hash="!")
            event = Event(
                organizer=organizer, slug=slug, title=f"Event {slug}", hold_minutes=hold_minutes,
                published=published, starts_at=clock.now() + timedelta(days=30), currency=currency, locale=locale,
                max_holds_per_client=max_holds_per_client, release_cooldown_seconds=release_cooldown_seconds,
                **event_fields,
                ticket_types=[
                    TicketType(**{"price": 1000, "per_order_limit": 10, **spec})
                    for spec in types
                ],
            )
            db.session.add(event)
            db.session.commit()
            return event.id, [tt.id for tt in event.ticket_types]

    return factory


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on 127.0.0.1 (same process, so the clock is shared)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium; Playwright's own browser downloads are not reachable here."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }

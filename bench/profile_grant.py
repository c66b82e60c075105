"""Where the time of one grant goes: `python -m bench.profile_grant` (or `make profile`).

One process, one buyer at a time, through the real app (the API's reserve, as the rush
sends it) on its own PostgreSQL database and Redis: the cost of one grant with nothing
else running, split into database round trips (time between sending a statement and
having its rows), Redis calls, and the rest (Python: Flask, validation, the ORM's unit of
work, serialization). cProfile then names the Python functions that cost most.
Writes bench/results/profile.md (git-ignored) and prints it.
"""
from __future__ import annotations

import cProfile
import io
import os
import pstats
import time
from datetime import UTC, datetime

import psycopg
import redis
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.settings import ROOT
from eventsite import create_app
from eventsite.domain.models import Event, Organizer, TicketType
from eventsite.infra import schema
from eventsite.infra.db import db

DATABASE_URL = os.environ.get("PROFILE_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/eventsite_profile")
REDIS_URL = os.environ.get("PROFILE_REDIS_URL", "redis://127.0.0.1:6379/8")
GRANTS = int(os.environ.get("PROFILE_GRANTS", "400"))
WARM_UP = 50


class Clocks:
    """Seconds spent waiting on the database and on Redis, and how many calls of each."""

    def __init__(self) -> None:
        self.db = self.redis = 0.0
        self.statements = self.redis_calls = 0

    def reset(self) -> None:
        self.__init__()


def _recreate_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def _watch(engine, clocks: Clocks) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _sent(conn, cursor, statement, parameters, context, executemany):
        conn.info["eventsite_sent"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _answered(conn, cursor, statement, parameters, context, executemany):
        clocks.db += time.perf_counter() - conn.info.pop("eventsite_sent")
        clocks.statements += 1

    # COMMIT and ROLLBACK are round trips too, sent outside cursor execution.
    for name in ("commit", "rollback"):
        _time_calls(psycopg.Connection, name, clocks, "db", "statements")
    _time_calls(redis.Redis, "execute_command", clocks, "redis", "redis_calls")


def _time_calls(cls, method: str, clocks: Clocks, seconds: str, count: str) -> None:
    """Add the time of every call of ``cls.method`` to ``clocks`` (this process only)."""
    original = getattr(cls, method)

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            setattr(clocks, seconds, getattr(clocks, seconds) + time.perf_counter() - started)
            setattr(clocks, count, getattr(clocks, count) + 1)

    setattr(cls, method, timed)


def main() -> None:
    _recreate_database(DATABASE_URL)
    app = create_app({"SQLALCHEMY_DATABASE_URI": DATABASE_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": "profile",
                      "RATELIMIT_ENABLED": False, "JOB_ID_PREFIX": "es-profile"})
    schema.recreate(app)
    redis.Redis.from_url(REDIS_URL).flushdb()
    clocks = Clocks()
    with app.app_context():
        db.session.add(Event(organizer=Organizer(email="o@profile.test", password_hash="!"), slug="profile",
                             title="Profile", starts_at=datetime(2030, 1, 1, tzinfo=UTC), published=True,
                             max_holds_per_client=0,  # one client places every hold
                             ticket_types=[TicketType(name="GA", price=1000, capacity=10**6, per_order_limit=10)]))
        db.session.commit()
        ticket_type = db.session.query(TicketType.id).scalar()
        _watch(db.engine, clocks)
    client = app.test_client()

    def grant(n: int) -> None:
        body = {"email": f"buyer{n}@profile.test", "items": [{"ticket_type_id": ticket_type, "quantity": 1}]}
        response = client.post("/api/v1/events/profile/reservations", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)

    for n in range(WARM_UP):
        grant(-n - 1)
    clocks.reset()
    started = time.perf_counter()
    for n in range(GRANTS):
        grant(n)
    wall = time.perf_counter() - started
    db_s, redis_s = clocks.db, clocks.redis

    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(GRANTS, GRANTS + GRANTS // 2):
        grant(n)
    profiler.disable()
    top = io.StringIO()
    pstats.Stats(profiler, stream=top).sort_stats("tottime").print_stats(25)

    per = lambda seconds: seconds / GRANTS * 1000  # noqa: E731
    report = "\n".join([
        f"# One grant, measured ({GRANTS} grants in a row after {WARM_UP} to warm up; one process, no contention)",
        "",
        "| part | ms per grant | share | calls per grant |",
        "|---|---|---|---|",
        f"| whole request (API reserve, 201) | {per(wall):.2f} | 100% | |",
        f"| PostgreSQL round trips (statements, commits) | {per(db_s):.2f} | {db_s / wall:.0%} | "
        f"{clocks.statements / GRANTS:.1f} |",
        f"| Redis calls | {per(redis_s):.2f} | {redis_s / wall:.0%} | {clocks.redis_calls / GRANTS:.1f} |",
        f"| the rest (Python: Flask, validation, ORM unit of work, JSON) | {per(wall - db_s - redis_s):.2f} | "
        f"{(wall - db_s - redis_s) / wall:.0%} | |",
        "",
        "Python functions by own time (cProfile, a further half run):",
        "",
        "```",
        "\n".join(line for line in top.getvalue().splitlines() if line.strip())[:6000],
        "```",
    ])
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "profile.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()

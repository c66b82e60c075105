"""Seconds from a hold lapsing to the next person's offer appearing in their browser, on the
wall clock with the real processes: gunicorn, an RQ worker with its scheduler, Chromium.

A 1-minute hold on the only ticket lapses with one buyer waiting; nothing is faked (no frozen
clock, no jobs run by hand). The waiting page polls as it does for anyone at the head of the line.
Writes bench/results/offer_latency.md. Run with `make offer-latency` (about 80 seconds).
"""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from eventsite import create_app
from eventsite.domain.models import Event, Organizer, TicketType
from eventsite.infra import schema
from eventsite.infra.db import db
from eventsite.infra.redis import connection
from eventsite.services import reserving, waitlist

from .seed import ensure_database
from .servers import served, server_env
from .settings import ROOT, Settings

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _setup(app) -> tuple[str, datetime]:
    """The only ticket held by one buyer for a minute, another waiting: (waiting page path, lapse instant)."""
    with app.app_context():
        db.session.add(Event(organizer=Organizer(email="bench@example.test", password_hash="!"), slug="latency",
                             title="Latency", starts_at=datetime.now(UTC) + timedelta(days=9), published=True,
                             hold_minutes=1, ticket_types=[TicketType(name="GA", price=1000, capacity=1)]))
        db.session.commit()
        tt_id = db.session.scalar(db.select(TicketType.id))
        hold = reserving.reserve("latency", {tt_id: 1}, "holder@example.test")
        entry = waitlist.join("latency", tt_id, 1, "next@example.test")
        return f"/w/{entry.token}", hold.expires_at


def main() -> None:
    settings = Settings()
    settings.results_dir.mkdir(parents=True, exist_ok=True)
    ensure_database(settings)
    app = create_app({"SQLALCHEMY_DATABASE_URI": settings.database_url, "REDIS_URL": settings.redis_url})
    schema.recreate(app)
    with app.app_context():
        connection().flushdb()  # no job of an earlier run
    path, lapses_at = _setup(app)
    worker_log = open(settings.results_dir / "offer-latency-worker.log", "w")
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("rq")), "worker", "-w", "worker.AppWorker", "--with-scheduler",
         "--url", settings.redis_url, "default", "mail", "cleanup"],
        env=server_env(settings), cwd=ROOT,
        stdout=worker_log, stderr=subprocess.STDOUT)
    try:
        with served(settings, "offer-latency", "app:create_app()") as port, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}{path}")
            page.wait_for_selector("text=1st in line")
            page.wait_for_selector("text=Your tickets are reserved for you",
                                   timeout=(lapses_at - datetime.now(UTC)).total_seconds() * 1000 + 60_000)
            seconds = (datetime.now(UTC) - lapses_at).total_seconds()
            browser.close()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        worker_log.close()
    line = (f"Hold lapsed at {lapses_at:%H:%M:%S.%f}; the offer appeared in the waiting buyer's browser "
            f"**{seconds:.2f} s** later (wall clock: gunicorn, RQ worker with its scheduler, Chromium).")
    (settings.results_dir / "offer_latency.md").write_text(f"# Offer latency\n\n{line}\n")
    print(line)


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"({time.monotonic() - started:.0f} s in all)")

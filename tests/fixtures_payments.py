"""Payment fixtures any test may use: the dev Stripe server over real HTTP, real Redis,
RQ burst workers. Registered for the whole suite by the root conftest."""
from __future__ import annotations

import time

import pytest
import redis
import requests
from rq import Queue

from eventsite import jobs
from eventsite.payments.devstripe import start_devstripe, stop_devstripe
from worker import SimpleAppWorker

WEBHOOK_SECRET = "whsec_tests_only"


@pytest.fixture
def rq_redis(app):
    """The test Redis database, empty before and after the test."""
    conn = redis.Redis.from_url(app.config["REDIS_URL"])
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def settings(app):
    """Change app settings for one test; restored afterwards."""
    saved = dict(app.config)

    def set_(**values):
        app.config.update(values)
        app.extensions.pop("stripe_clients", None)

    yield set_
    app.config.clear()
    app.config.update(saved)
    app.extensions.pop("stripe_clients", None)


class DevStripe:
    """A handle on a running dev server, driven over HTTP like a buyer or Stripe would."""

    def __init__(self, base_url: str):
        self.url = base_url
        self.http = requests.Session()

    def state(self) -> dict:
        return self.http.get(f"{self.url}/_dev/state", timeout=5).json()

    def configure(self, **settings) -> None:
        self.http.post(f"{self.url}/_dev/config", json=settings, timeout=5).raise_for_status()

    def deliver_held(self) -> list[str]:
        return self.http.post(f"{self.url}/_dev/deliver", timeout=5).json()["delivered"]

    def resend(self, event_id: str) -> None:
        self.http.post(f"{self.url}/_dev/events/{event_id}/resend", timeout=5).raise_for_status()

    def session(self, session_id: str) -> dict:
        return next(s for s in self.state()["sessions"] if s["id"] == session_id)

    def click(self, checkout_url: str, action: str) -> requests.Response:
        """Press a button on the hosted page (pay, delayed, decline, async/succeeded, async/failed)."""
        page = self.http.get(checkout_url, timeout=5)
        page.raise_for_status()
        assert f'/{action}"' in page.text, f"no {action} button on the hosted page"
        return self.http.post(f"{checkout_url}/{action}", allow_redirects=False, timeout=5)

    def events(self, kind: str | None = None) -> list[dict]:
        return [e for e in self.state()["events"] if kind is None or e["type"] == kind]

    def wait_delivered(self, kind: str, count: int = 1, timeout: float = 10) -> list[dict]:
        """Until ``count`` events of ``kind`` were accepted (2xx) by the app."""
        deadline = time.monotonic() + timeout
        while True:
            done = [e for e in self.events(kind) if any(200 <= a < 300 for a in e["attempts"])]
            if len(done) >= count:
                return done
            assert time.monotonic() < deadline, f"{kind} not delivered: {self.events(kind)}"
            time.sleep(0.05)


@pytest.fixture
def devstripe(app, live_server, settings, rq_redis):
    """A fresh dev server whose webhooks reach the live app; the app's gateway points at it."""
    base_url = start_devstripe(live_server, WEBHOOK_SECRET)
    settings(DEVSTRIPE_URL=base_url, PUBLIC_URL=live_server, STRIPE_SECRET_KEY=None,
             STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    server = DevStripe(base_url)
    server.configure(retry_delays=[0.1, 0.2, 0.4, 0.8])
    yield server
    stop_devstripe(base_url)


@pytest.fixture
def run_jobs(app, rq_redis):
    """Run queued jobs now in a burst SimpleWorker with the test app; returns the worker."""

    def run(*queues: str):
        worker = SimpleAppWorker([Queue(q, connection=rq_redis) for q in (queues or jobs.QUEUES)],
                                 connection=rq_redis, app=app)
        worker.work(burst=True)
        return worker

    return run

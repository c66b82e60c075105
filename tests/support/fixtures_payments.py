"""Payment fixtures any test may use: the dev Stripe server over real HTTP, real Redis,
RQ burst workers. Registered for the whole suite by the root conftest."""
from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
import redis
import requests
from rq import Queue

from devtools.devstripe import start_devstripe, stop_devstripe
from eventsite.domain.models import Order
from eventsite.infra import queue as job_queue
from eventsite.infra.db import db
from eventsite.services import reserving
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

    def __init__(self, base_url: str, api_key: str):
        self.url, self.api_key = base_url, api_key
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
    # The installation's own key (instance/devstripe_secret), which worker processes started by a test share.
    api_key = app.config["DEVSTRIPE_API_KEY"]
    base_url = start_devstripe(live_server, WEBHOOK_SECRET, api_key=api_key)
    settings(DEVSTRIPE_URL=base_url, PUBLIC_URL=live_server, STRIPE_SECRET_KEY=None,
             STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    server = DevStripe(base_url, api_key)
    server.configure(retry_delays=[0.1, 0.2, 0.4, 0.8])
    yield server
    stop_devstripe(base_url)


@pytest.fixture
def run_jobs(app, rq_redis):
    """Run queued jobs now in a burst SimpleWorker with the test app; returns the worker."""

    def run(*queues: str):
        worker = SimpleAppWorker([Queue(q, connection=rq_redis) for q in (queues or job_queue.QUEUES)],
                                 connection=rq_redis, app=app)
        worker.work(burst=True)
        return worker

    return run


@pytest.fixture
def reload_order(app):
    def get(order_id: int) -> Order:
        with app.app_context():
            order = db.session.get(Order, order_id)
            order.items, order.history  # load before the session closes  # noqa: B018
            db.session.expunge(order)
            return order

    return get


def _wait_for(predicate, timeout: float = 10, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(interval)


@pytest.fixture
def wait_for():
    """Poll until predicate() is truthy (webhooks arrive on other threads)."""
    return _wait_for


class Buyer:
    """A buyer's browser session against the live app, over real HTTP."""

    def __init__(self, app, base_url: str, run_jobs):
        self.app, self.url, self.run_jobs = app, base_url, run_jobs
        self.http = requests.Session()

    def reserve(self, event_id: int, quantities: dict[int, int], email: str = "buyer@example.test"):
        with self.app.app_context():

            from eventsite.domain.models import Event

            order = reserving.reserve(db.session.get(Event, event_id).slug, quantities, email)
            return SimpleNamespace(id=order.id, token=order.token, expires_at=order.expires_at)

    def csrf(self, token: str) -> str:
        page = self.http.get(f"{self.url}/r/{token}/pay", timeout=5)
        return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)

    def press_pay_now(self, token: str) -> requests.Response:
        return self.http.post(f"{self.url}/r/{token}/pay", timeout=10,
                              headers={"HX-Request": "true", "X-CSRFToken": self.csrf(token)})

    def poll_preparing(self, token: str) -> requests.Response:
        return self.http.get(f"{self.url}/r/{token}/pay/poll", headers={"HX-Request": "true"}, timeout=5)

    def checkout(self, token: str) -> str:
        """Pay now, let the worker create the session, follow the poll to the checkout URL."""
        pressed = self.press_pay_now(token)
        assert pressed.status_code == 200 and "Preparing payment" in pressed.text
        self.run_jobs("default")
        redirect = self.poll_preparing(token)
        assert "HX-Redirect" in redirect.headers, redirect.text
        return redirect.headers["HX-Redirect"]


@pytest.fixture
def buyer(app, live_server, run_jobs):
    return Buyer(app, live_server, run_jobs)

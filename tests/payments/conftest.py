"""Payments fixtures: due scheduled jobs, a buyer over HTTP (the dev server and RQ workers
are in tests/fixtures_payments.py, shared with other areas)."""
from __future__ import annotations

import re
import time
from types import SimpleNamespace
from datetime import timedelta

import pytest
import requests
from rq import Queue
from rq.registry import ScheduledJobRegistry

from eventsite import jobs
from eventsite.clock import clock
from eventsite.extensions import db
from eventsite.models import Order

@pytest.fixture
def run_due(rq_redis, run_jobs):
    """Move scheduled jobs that are due by the (frozen) app clock to their queue, then run them:
    RQ's scheduler does the same by the wall clock in `rq worker --with-scheduler`."""

    def run(queue_name: str = jobs.CLEANUP) -> list[str]:
        queue = Queue(queue_name, connection=rq_redis)
        registry = ScheduledJobRegistry(queue=queue)
        due = registry.get_jobs_to_schedule(int(clock.now().timestamp()))
        for job_id in due:
            registry.remove(job_id)
            queue.enqueue_job(queue.fetch_job(job_id))
        run_jobs(queue_name)
        return due

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
            from eventsite import inventory
            from eventsite.models import Event

            order = inventory.reserve(db.session.get(Event, event_id), quantities, email)
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


HOLD = timedelta(minutes=15)

"""Background work on RQ: connections, enqueueing (inline when Redis is down),
per-order expiry scheduling, and the periodic sweep on rq-scheduler.

Queues: ``default`` (checkout sessions, refunds) and ``cleanup`` (expiry).
Jobs take ids, are idempotent, and retry with backoff.
"""
from __future__ import annotations

import logging
from datetime import datetime

import click
import redis
from flask import Flask, current_app
from flask.cli import AppGroup
from rq import Queue, Retry

from . import inventory
from .models import Order

log = logging.getLogger(__name__)

DEFAULT, CLEANUP = "default", "cleanup"
QUEUES = (DEFAULT, CLEANUP)
RETRY = Retry(max=5, interval=[2, 10, 30, 120, 600])
SWEEP_JOB_ID = "eventsite-sweep"
SWEEP_FUNC = "eventsite.payments.expiry.sweep"


def connection() -> redis.Redis:
    """One client per app and URL; short timeouts so a dead Redis cannot stall a sale."""
    url = current_app.config["REDIS_URL"]
    cache = current_app.extensions.setdefault("redis", {})
    if url not in cache:
        cache[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    return cache[url]


def queue(name: str = DEFAULT) -> Queue:
    return Queue(name, connection=connection())


def enqueue(func, *args):
    """Enqueue ``func(*args)`` with retries; if Redis is unreachable, run it now
    instead (logged), so a buyer never waits on a queue that is not there."""
    try:
        return queue(DEFAULT).enqueue(func, *args, retry=RETRY, failure_ttl=7 * 86400)
    except redis.RedisError as error:
        log.warning("Redis unavailable (%s); running %s%r inline", error, func.__name__, args)
    try:
        func(*args)
    except Exception:  # the job records its own failure for the buyer to see
        log.exception("inline job %s%r failed", func.__name__, args)
    return None


def schedule_expiry(order_id: int, at: datetime) -> None:
    """Run the per-order expiry job at the hold's expiry (RQ's own scheduler, in
    workers started --with-scheduler). Without Redis only the sweep expires it,
    and availability is right meanwhile since it never counts a lapsed hold."""
    from .payments.expiry import expire_order

    try:
        queue(CLEANUP).enqueue_at(at, expire_order, order_id, job_id=f"expire-order-{order_id}", retry=RETRY)
    except redis.RedisError as error:
        log.warning("Redis unavailable (%s); order %s will be expired by the sweep", error, order_id)


def _on_hold_placed(order: Order, **_) -> None:
    schedule_expiry(order.id, order.expires_at)


# --- the periodic sweep (rq-scheduler) ---------------------------------------

def scheduler():
    from rq_scheduler import Scheduler

    return Scheduler(queue_name=CLEANUP, connection=connection())


def register_sweep(interval: int) -> None:
    """Register the sweep every ``interval`` seconds, replacing any earlier registration."""
    from .clock import now

    sched = scheduler()
    if SWEEP_JOB_ID in sched:
        sched.cancel(SWEEP_JOB_ID)
    sched.schedule(scheduled_time=now().replace(tzinfo=None), func=SWEEP_FUNC, interval=interval, repeat=None,
                   id=SWEEP_JOB_ID, queue_name=CLEANUP, result_ttl=interval * 2)


jobs_cli = AppGroup("jobs", help="Background jobs: the expiry sweep.")


@jobs_cli.command("sweep")
def sweep_command() -> None:
    """Expire every lapsed hold now (what the scheduler runs periodically)."""
    from .payments.expiry import sweep

    click.echo(f"Expired {sweep()} lapsed holds.")


@jobs_cli.command("schedule")
def schedule_command() -> None:
    """Register the periodic sweep with rq-scheduler (safe to run again)."""
    interval = current_app.config["SWEEP_INTERVAL_SECONDS"]
    register_sweep(interval)
    click.echo(f"Sweep scheduled every {interval} s.")


def init_app(app: Flask) -> None:
    inventory.hold_placed.connect(_on_hold_placed)
    app.cli.add_command(jobs_cli)

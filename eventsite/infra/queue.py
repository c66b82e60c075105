"""The job queue on RQ: enqueueing (inline when Redis is down), jobs at an
instant (RQ's scheduler in the workers) and the periodic sweep (rq-scheduler).

Queues: ``default`` (checkout sessions, refunds) and ``cleanup`` (expiry).
Jobs are named by their dotted path in ``eventsite.tasks`` (so nothing below
the tasks imports them), take ids, are idempotent, and retry with backoff.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import current_app
from redis import RedisError
from rq import Queue, Retry, Worker
from rq.utils import import_attribute

from .redis import connection

log = logging.getLogger(__name__)

# Mail has its own queue: a slow SMTP server never delays a buyer's payment session.
DEFAULT, MAIL, CLEANUP = "default", "mail", "cleanup"
QUEUES = (DEFAULT, MAIL, CLEANUP)
RETRY = Retry(max=5, interval=[2, 10, 30, 120, 600])
SWEEP_TASK = "eventsite.tasks.sweep"


def job_id(name: str) -> str:
    """``name`` in this installation's namespace: installations sharing a Redis never collide."""
    return f"{current_app.config['JOB_ID_PREFIX']}-{name}"


def sweep_job_id() -> str:
    return job_id("sweep")


def queue(name: str = DEFAULT) -> Queue:
    return Queue(name, connection=connection())


def enqueue(task: str, *args, inline: bool = True, queue_name: str = DEFAULT) -> None:
    """Enqueue the task ``task(*args)`` with retries; if Redis is unreachable, run it now
    instead (logged), so a buyer never waits on a queue that is not there. ``inline=False``:
    work the database remembers anyway (an obligation) is left to the sweep instead."""
    try:
        queue(queue_name).enqueue(task, *args, retry=RETRY, failure_ttl=7 * 86400)
        return
    except RedisError as error:
        if not inline:
            log.warning("Redis unavailable (%s); %s%r is left to the sweep", error, task.rsplit(".", 1)[-1], args)
            return
        log.warning("Redis unavailable (%s); running %s%r inline", error, task.rsplit(".", 1)[-1], args)
    try:
        import_attribute(task)(*args)
    except Exception:  # the job records its own failure for the buyer to see
        log.exception("inline job %s%r failed", task, args)


def enqueue_at(at: datetime, task: str, *args, name: str) -> RedisError | None:
    """Run ``task(*args)`` at ``at`` on the cleanup queue; the Redis error if it could not be queued."""
    try:
        queue(CLEANUP).enqueue_at(at, task, *args, job_id=job_id(name), retry=RETRY)
    except RedisError as error:
        return error
    return None


def ping() -> bool:
    try:
        return bool(connection().ping())
    except RedisError:
        return False


def worker_heartbeats() -> list[datetime]:
    """The last heartbeat of every registered RQ worker (they beat while idle too)."""
    return [w.last_heartbeat.replace(tzinfo=UTC) if w.last_heartbeat.tzinfo is None else w.last_heartbeat
            for w in Worker.all(connection=connection()) if w.last_heartbeat]


def sweep_next_run() -> datetime | None:
    """When rq-scheduler will next start the sweep (None: not registered)."""
    sched = scheduler()
    score = sched.connection.zscore(sched.scheduled_jobs_key, sweep_job_id())
    return datetime.fromtimestamp(score, UTC) if score is not None else None


def scheduler():
    from rq_scheduler import Scheduler  # imports its own CLI plumbing; only the sweep needs it

    return Scheduler(queue_name=CLEANUP, connection=connection())


def run_scheduler(interval: float, before_each_run: Callable[[], object]) -> None:
    """rq-scheduler's loop (one active scheduler, by its lock), calling ``before_each_run``
    first on every pass: the sweep's registration is checked every ``interval`` seconds,
    so an empty Redis loses it for one pass at most. A Redis outage does not end the
    process: it starts the loop again every second until Redis answers."""
    from rq_scheduler import Scheduler

    class SurvivingScheduler(Scheduler):
        def enqueue_jobs(self):
            before_each_run()
            return super().enqueue_jobs()

        # Leaving (a pass that failed, or SIGTERM) must not fail on Redis being away:
        # the lock and the scheduler's key expire on their own.
        def remove_lock(self):
            try:
                super().remove_lock()
            except RedisError:
                pass

        def register_death(self):
            try:
                super().register_death()
            except RedisError:
                pass

    while True:
        try:
            SurvivingScheduler(queue_name=CLEANUP, connection=connection(), interval=interval).run()
        except RedisError as error:
            log.warning("Redis unavailable (%s); the scheduler tries again in 1 s", error)
            time.sleep(1)


def register_sweep(interval: int, start: datetime, *, replace: bool = True) -> bool:
    """Register the sweep every ``interval`` seconds from ``start`` (replacing an earlier
    registration, or, with ``replace=False``, only if there is none); True if it registered.

    No result_ttl: rq-scheduler keeps a periodic job's entry only as long as its
    result, so a TTL shorter than an outage dropped the sweep for good."""
    sched, sweep_id = scheduler(), sweep_job_id()
    if sweep_id in sched:
        if not replace:
            return False
        sched.cancel(sweep_id)
    sched.schedule(scheduled_time=start.replace(tzinfo=None), func=SWEEP_TASK, interval=interval, repeat=None,
                   id=sweep_id, queue_name=CLEANUP)
    return True

"""Payments fixtures: scheduled jobs that are due by the test clock. The dev server, RQ
workers and the HTTP buyer are in tests/fixtures_payments.py, shared with other areas."""
from __future__ import annotations

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from eventsite.domain.clock import clock
from eventsite.infra import queue as job_queue


@pytest.fixture
def run_due(rq_redis, run_jobs):
    """Move scheduled jobs that are due by the (frozen) app clock to their queue, then run them:
    RQ's scheduler does the same by the wall clock in `rq worker --with-scheduler`."""

    def run(queue_name: str = job_queue.CLEANUP) -> list[str]:
        queue = Queue(queue_name, connection=rq_redis)
        registry = ScheduledJobRegistry(queue=queue)
        due = registry.get_jobs_to_schedule(int(clock.now().timestamp()))
        for job_id in due:
            registry.remove(job_id)
            queue.enqueue_job(queue.fetch_job(job_id))
        run_jobs(queue_name)
        return due

    return run


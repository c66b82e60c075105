"""Background work: a worker killed mid-job, the scheduled sweep, two sweeps at once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import select

from eventsite.domain.models import OrderEvent, OrderStatus
from eventsite.infra import queue as job_queue
from eventsite.infra.db import db

ROOT = Path(__file__).resolve().parents[3]
HOLD = timedelta(minutes=15)


def test_worker_killed_mid_job_is_retried_and_the_order_gets_one_session(
        app, make_event, buyer, devstripe, reload_order, run_jobs, rq_redis, wait_for):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    devstripe.configure(create_delay=60)  # Stripe made the session, but the answer never gets back
    buyer.press_pay_now(order.token)
    [job_id] = Queue("default", connection=rq_redis).job_ids

    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"],
           "DEVSTRIPE_URL": devstripe.url, "PUBLIC_URL": buyer.url, "SECRET_KEY": "test-secret"}
    env.pop("STRIPE_SECRET_KEY", None)
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "rq"), "worker", "-w", "worker.AppWorker", "--burst",
         "--url", app.config["REDIS_URL"], "default"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: devstripe.state()["sessions"], timeout=30)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse, mid-request
        worker.wait(timeout=10)
    job = Job.fetch(job_id, connection=rq_redis)
    assert job.get_status() == JobStatus.STARTED and reload_order(order.id).stripe_session_id is None

    # RQ's registry cleanup (run by any live worker) finds the abandoned job once
    # its timeout has passed, and retries it.
    StartedJobRegistry("default", connection=rq_redis).cleanup(timestamp=time.time() + 3600)
    queue = Queue("default", connection=rq_redis)
    for due in queue.scheduled_job_registry.get_jobs_to_schedule(int(time.time()) + 3600):
        queue.scheduled_job_registry.remove(due)
        queue.enqueue_job(queue.fetch_job(due))
    devstripe.configure(create_delay=0)
    run_jobs("default")

    assert Job.fetch(job_id, connection=rq_redis).get_status() == JobStatus.FINISHED
    [session] = devstripe.state()["sessions"]
    paid_for = reload_order(order.id)
    assert paid_for.stripe_session_id == session["id"] and paid_for.status == OrderStatus.PAYMENT_PROCESSING


def test_schedule_registers_the_sweep_once_and_the_scheduler_runs_it(
        app, frozen, make_event, buyer, run_jobs, rq_redis, reload_order, settings):
    settings(SWEEP_INTERVAL_SECONDS=120)
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["jobs", "schedule"])
        assert result.exit_code == 0 and "every 120 s" in result.output

    with app.app_context():
        scheduler = job_queue.scheduler()
        [sweep] = list(scheduler.get_jobs())
        assert sweep.id == job_queue.sweep_job_id() and sweep.meta["interval"] == 120
        frozen.advance(HOLD)
        scheduler.enqueue_jobs()  # what `rqscheduler` does when the sweep is due
        assert [j.id for j in list(scheduler.get_jobs())] == [job_queue.sweep_job_id()]  # and it repeats
    run_jobs("cleanup")
    assert reload_order(order.id).status == OrderStatus.EXPIRED


def test_two_sweeps_at_once_expire_each_hold_exactly_once(app, frozen, make_event, buyer, settings):
    from eventsite.services.expiry import sweep

    event_id, (ga,) = make_event({"name": "GA", "capacity": 50})
    ids = [buyer.reserve(event_id, {ga: 1}, email=f"b{i}@example.test").id for i in range(12)]
    frozen.advance(HOLD)
    settings(SWEEP_BATCH_SIZE=4)
    counts, start = [], threading.Barrier(2)

    def run():
        with app.app_context():
            start.wait()
            counts.append(sweep())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sum(counts) == 12
    with app.app_context():
        expiries = db.session.scalars(select(OrderEvent.order_id).where(OrderEvent.to_status == "expired")).all()
    assert sorted(expiries) == sorted(ids)

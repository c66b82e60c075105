"""Redis restarted empty (a crash: no data kept) under running processes: the worker and
rqscheduler come back on their own, the sweep registers itself again and runs within
two intervals, and work promised while Redis was gone is done, once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from own_services import own_redis
from sqlalchemy import func, select

from eventsite.domain.models import Obligation, SweepRun
from eventsite.infra.db import db
from eventsite.readmodels import lookups
from eventsite.services import reserving

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INTERVAL = 2  # seconds between sweeps, for this test


def _processes(env: dict) -> list[subprocess.Popen]:
    keep = str(ROOT / "devtools" / "keep-running")
    commands = ([keep, str(BIN / "rq"), "worker", "-w", "worker.AppWorker", "--with-scheduler",
                 "--maintenance-interval", "5", "--url", env["REDIS_URL"], "default", "cleanup"],
                [keep, str(BIN / "flask"), "--app", "app", "jobs", "scheduler", "--interval", "0.5"])
    return [subprocess.Popen(c, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for c in commands]


def _sweeps(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(SweepRun))
        db.session.rollback()
        return count


def _wait(condition, timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "not within the time allowed"
        time.sleep(0.1)
    return time.monotonic() - started


def test_after_redis_lost_its_data_the_sweep_and_promised_work_come_back(
        app, make_event, buyer, devstripe, reload_order, settings, capsys):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    buyer.checkout(order.token)
    with own_redis() as redis:
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis.url,
               "SWEEP_INTERVAL_SECONDS": str(INTERVAL), "SECRET_KEY": "test-secret", "PUBLIC_URL": buyer.url,
               "DEVSTRIPE_URL": devstripe.url, "STRIPE_WEBHOOK_SECRET": "whsec_tests_only"}
        env.pop("STRIPE_SECRET_KEY", None)
        settings(REDIS_URL=redis.url, JOB_ID_PREFIX="es-fault")
        app.extensions.pop("redis", None)
        processes = _processes(env)
        try:
            _wait(lambda: _sweeps(app) >= 1, timeout=30)  # the worker registered it at start; it runs

            redis.stop()  # Redis crashes: every queued job, the schedule and the sweep's registration are gone
            with app.app_context():  # meanwhile the buyer releases: the session must still be closed
                reserving.release(lookups.order_by_token(order.token), actor="buyer:test")
            before = _sweeps(app)
            redis.start()  # back, empty
            came_back = _wait(lambda: _sweeps(app) > before, timeout=2 * INTERVAL + 20)

            _wait(lambda: devstripe.session(reload_order(order.id).stripe_session_id)["status"] == "expired",
                  timeout=2 * INTERVAL + 20)
            with app.app_context():
                [obligation] = db.session.scalars(select(Obligation)).all()
                assert obligation.done_at is not None and obligation.attempts == 1  # done, once
            assert len([e for e in devstripe.events("checkout.session.expired")]) == 1
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)
            for process in processes:
                process.wait(timeout=20)
    with capsys.disabled():
        print(f"\n[fault run] sweep ran again {came_back:.1f} s after Redis came back empty "
              f"(interval {INTERVAL} s); obligations lost: 0; done twice: 0")

"""A fault run under real processes (RQ worker and rqscheduler, each under keep-running):

1. Redis crashes and comes back empty while holds lapse, a buyer releases a hold in
   checkout, and a late payment that found no tickets is owed a refund. The sweep registers
   itself again and runs within two intervals; every lapsed hold is expired, every session
   closed, the refund made exactly once, every promise done once.
2. The worker (with its scheduler) and rqscheduler are SIGKILLed: they come back and the
   sweep runs again within one interval of their return.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from own_services import own_redis
from sqlalchemy import func, select, update

from eventsite.domain.clock import now
from eventsite.domain.models import Obligation, Order, OrderStatus, SweepRun
from eventsite.infra.db import db
from eventsite.readmodels import lookups
from eventsite.services import emails, reserving

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INTERVAL = 2  # seconds between sweeps, for this test
S = OrderStatus


def _processes(env: dict, logs: Path) -> list[subprocess.Popen]:
    """The worker and rqscheduler as `make run` starts them; their output goes to ``logs``."""
    keep = str(ROOT / "devtools" / "keep-running")
    commands = ([keep, str(BIN / "rq"), "worker", "-w", "worker.AppWorker", "--with-scheduler",
                 "--maintenance-interval", "5", "--url", env["REDIS_URL"], "default", "mail", "cleanup"],
                [keep, str(BIN / "flask"), "--app", "app", "jobs", "scheduler", "--interval", "0.5"])
    return [subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                             stdout=(logs / f"{name}.log").open("w"), stderr=subprocess.STDOUT)
            for name, command in zip(("worker", "scheduler"), commands, strict=True)]


def _children(supervisor: subprocess.Popen) -> list[int]:
    """The command keep-running runs now (its direct children, less its sleep between runs)."""
    found = subprocess.run(["pgrep", "-P", str(supervisor.pid)], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found if _command(pid) not in (None, "sleep")]


def _command(pid: str) -> str | None:
    """A process's command name; None once it has gone (it may end between pgrep and this read)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _query(app, statement):
    with app.app_context():
        value = db.session.scalar(statement)
        db.session.rollback()
        return value


def _sweeps(app) -> int:
    return _query(app, select(func.count()).select_from(SweepRun))


def _stuck(app) -> int:
    """Orders that still say they hold tickets although their hold lapsed."""
    return _query(app, select(func.count()).select_from(Order).where(
        Order.status.in_([S.RESERVED, S.PAYMENT_PROCESSING]), Order.expires_at <= now()))


def _wait(condition, timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "not within the time allowed"
        time.sleep(0.1)
    return time.monotonic() - started


def test_after_redis_lost_its_data_and_workers_were_killed_everything_promised_is_done_once(
        app, make_event, buyer, devstripe, reload_order, settings, capsys, tmp_path, inbox):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 10})
    last_id, (last,) = make_event({"name": "Last seat", "capacity": 1}, slug="last")
    released = buyer.reserve(event_id, {ga: 1}, email="released@example.test")
    lapsing = [buyer.reserve(event_id, {ga: 1}, email=f"lapsing{n}@example.test") for n in range(3)]
    late = buyer.reserve(last_id, {last: 1}, email="late@example.test")
    late_checkout = buyer.checkout(late.token)
    for order in (released, *lapsing):
        buyer.checkout(order.token)
    with own_redis() as redis:
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis.url,
               "SWEEP_INTERVAL_SECONDS": str(INTERVAL), "SECRET_KEY": "test-secret", "PUBLIC_URL": buyer.url,
               "DEVSTRIPE_URL": devstripe.url, "STRIPE_WEBHOOK_SECRET": "whsec_tests_only",
               "MAIL_PORT": str(app.config["MAIL_PORT"])}  # the session's SMTP server
        env.pop("STRIPE_SECRET_KEY", None)
        settings(REDIS_URL=redis.url, JOB_ID_PREFIX="es-fault")
        app.extensions.pop("redis", None)
        processes = _processes(env, tmp_path)
        try:
            _wait(lambda: _sweeps(app) >= 1, timeout=30)  # the worker registered it at start; it runs

            running = [_children(p) for p in processes]
            redis.stop()  # a crash: every queued job, the schedule and the sweep's registration are gone
            with app.app_context():
                reserving.release(lookups.order_by_token(released.token), actor="buyer:test")
                # The holds in checkout and the late buyer's lapse while Redis is away ...
                db.session.execute(update(Order).where(Order.id.in_([o.id for o in (*lapsing, late)]))
                                   .values(expires_at=now() - timedelta(seconds=1)))
                db.session.commit()
                # ... another buyer takes the last seat, then the late buyer pays: no seat, a refund is owed.
                taker = reserving.reserve("last", {last: 1}, "taker@example.test")
            devstripe.click(late_checkout, "pay")
            devstripe.wait_delivered("checkout.session.completed")
            assert reload_order(late.id).status == S.EXPIRED  # never oversold
            before = _sweeps(app)
            redis.start()  # back, empty
            came_back = _wait(lambda: _sweeps(app) > before, timeout=2 * INTERVAL + 20)

            def all_done() -> bool:
                return (_query(app, select(func.count()).select_from(Obligation).where(Obligation.done_at.is_(None)))
                        == 0 and _stuck(app) == 0 and reload_order(late.id).status == S.REFUNDED)

            _wait(all_done, timeout=2 * INTERVAL + 20)
            assert [_children(p) for p in processes] == running  # both rode the outage out, no restart
            sessions = [reload_order(o.id).stripe_session_id for o in (released, *lapsing)]
            assert [devstripe.session(s)["status"] for s in sessions] == ["expired"] * 4
            assert [reload_order(o.id).status for o in lapsing] == [S.EXPIRED] * 3
            assert reload_order(released.id).status == S.CANCELLED
            assert reload_order(taker.id).status == S.RESERVED
            [refund] = devstripe.state()["refunds"]  # made exactly once
            assert refund["payment_intent"] == reload_order(late.id).payment_intent_id
            with app.app_context():
                promises = db.session.scalars(select(Obligation)).all()
                assert sorted(o.kind.value for o in promises if o.kind not in emails.SUBJECTS) == [
                    "expire_session", "refund_payment"]
                assert all(o.done_at is not None and o.attempts == 1 for o in promises)  # done, once
                messages = sorted(o.kind.value for o in promises if o.kind in emails.SUBJECTS)
                assert messages == ["email_hold_placed"] * 6 + ["email_refunded"]
                db.session.rollback()
            sent = [(m["To"], m["Subject"].split(":")[0]) for m in inbox.messages]
            assert len(sent) == len(set(sent))  # each message once, however the outage fell
            assert {("late@example.test", "Refunded"), ("taker@example.test", "Reserved for you")} <= set(sent)

            # 2. The worker (its scheduler inside) and rqscheduler die without a word.
            victims = [pid for process in processes for pid in _children(process)]
            assert len(victims) == 2
            for pid in victims:
                os.kill(pid, signal.SIGKILL)
            _wait(lambda: all(_children(p) and set(_children(p)).isdisjoint(victims) for p in processes), 30)
            back_at = now()  # started again; their Python still has to load the app
            _wait(lambda: _query(app, select(func.max(SweepRun.started_at))) > back_at, timeout=INTERVAL + 20)
            resumed = (_query(app, select(func.min(SweepRun.started_at)).where(SweepRun.started_at > back_at))
                       - back_at).total_seconds()
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)
            for process in processes:  # told to stop, they stop (a worker once hung here for 60 s)
                process.wait(timeout=20)
    with capsys.disabled():
        print(f"\n[fault run] Redis restarted empty: the sweep ran again {came_back:.1f} s after it came back "
              f"(interval {INTERVAL} s); stuck orders: {_stuck(app)}; promises: {len(promises)}, lost: 0, "
              f"done twice: 0; refunds made: 1 of 1. Worker and rqscheduler SIGKILLed: the first "
              f"sweep started {resumed:.1f} s after they were started again.")

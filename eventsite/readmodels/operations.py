"""What operators need to see: is everything up, is background work keeping up
(GET /healthz), and the counts Prometheus scrapes (GET /metrics)."""
from __future__ import annotations

from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from ..domain.clock import now
from ..domain.models import Obligation, Order, OrderStatus, SweepRun
from ..infra import queue
from ..infra.db import db


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at else None


def health() -> tuple[bool, dict]:
    """(healthy, report): healthy when the database and Redis answer. The rest says whether
    background work keeps up: workers' heartbeats, the sweep, the oldest pending obligation."""
    at = now()
    report: dict = {"at": _iso(at)}
    try:
        db.session.execute(text("SELECT 1"))
        report["database"] = "ok"
        last = db.session.scalar(select(SweepRun).order_by(SweepRun.started_at.desc()).limit(1))
        oldest, pending = db.session.execute(
            select(func.min(Obligation.due_at), func.count()).where(Obligation.done_at.is_(None))).one()
        report["sweep_last_run"] = _iso(last.finished_at) if last else None
        report["obligations"] = {"pending": pending, "oldest_due_at": _iso(oldest)}
    except Exception as error:  # noqa: BLE001 - the report says what failed instead of a 500
        db.session.rollback()
        report["database"] = f"error: {type(error).__name__}"
    redis_ok = queue.ping()
    report["redis"] = "ok" if redis_ok else "unreachable"
    if redis_ok:
        beats = queue.worker_heartbeats()
        report["workers"] = {"count": len(beats), "last_heartbeat": _iso(max(beats, default=None))}
        report["sweep_next_run"] = _iso(queue.sweep_next_run())
    db.session.rollback()
    return report["database"] == "ok" and redis_ok, report


class DatabaseCounts:
    """A Prometheus collector: counts every process agrees on, read at scrape time."""

    def describe(self):
        return []  # nothing to read at registration (no app context then)

    def collect(self):
        at = now()
        orders = GaugeMetricFamily("eventsite_orders", "Orders by stored status", labels=["status"])
        counts = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
        for status in OrderStatus:
            orders.add_metric([status.value], counts.get(status, 0))
        yield orders
        pending, failing, oldest = db.session.execute(
            select(func.count(), func.count().filter(Obligation.attempts > 0), func.min(Obligation.due_at))
            .where(Obligation.done_at.is_(None))).one()
        yield GaugeMetricFamily("eventsite_obligations_pending", "Promised work not done yet", value=pending)
        yield GaugeMetricFamily("eventsite_obligations_failing", "Pending work that failed at least once",
                                value=failing)
        yield GaugeMetricFamily("eventsite_obligations_oldest_seconds", "Age of the oldest pending obligation",
                                value=(at - oldest).total_seconds() if oldest else 0)
        db.session.rollback()

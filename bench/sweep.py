"""One sweep in its own process: seconds, SQL statements issued, peak memory.

``python -m bench.sweep`` (DATABASE_URL, SWEEP_BATCH_SIZE from the
environment) prints one JSON object.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time

from sqlalchemy import event, not_


def run_sweep(batch_size: int) -> tuple[int, str]:
    """Expire every lapsed hold; returns (how many, which implementation ran).

    Prefers the product's sweep (``eventsite.jobs.sweep``, issue 7). Until that
    is merged, the same work through the state machine's batch transition.
    TODO(lead): drop the fallback once eventsite.jobs.sweep is merged.
    """
    try:
        from eventsite.jobs import sweep
    except ImportError:
        return _sweep_with_bulk_transition(batch_size), "fallback: orders.bulk_transition loop"
    return sweep(), "eventsite.jobs.sweep"


def _sweep_with_bulk_transition(batch_size: int) -> int:
    from eventsite import inventory, orders
    from eventsite.clock import now
    from eventsite.models import HOLDING_STATUSES, Order, OrderStatus
    from eventsite.transactions import write_transaction

    expired = 0
    at = now()
    while True:
        with write_transaction():
            ids = orders.bulk_transition(
                orders.candidate_ids(Order.status.in_(HOLDING_STATUSES), not_(inventory.holds_clause(at)),
                                     limit=batch_size),
                OrderStatus.EXPIRED, from_statuses=HOLDING_STATUSES, reason="hold lapsed", actor="system:sweep",
                at=at)
        if not ids:
            return expired
        expired += len(ids)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    from eventsite import create_app
    from eventsite.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"]})
    with app.app_context():
        statements = 0

        def count(*_args, **_kwargs):
            nonlocal statements
            statements += 1

        event.listen(db.engine, "before_cursor_execute", count)
        db.session.execute(db.text("SELECT 1"))  # connect and warm up before measuring
        db.session.commit()
        statements = 0
        rss_before = _rss_mb()
        start = time.perf_counter()
        expired, implementation = run_sweep(app.config["SWEEP_BATCH_SIZE"])
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    json.dump({"expired": expired, "seconds": round(seconds, 3), "statements": statements,
               "batch_size": app.config["SWEEP_BATCH_SIZE"], "implementation": implementation,
               "rss_before_mb": round(rss_before, 1), "peak_rss_mb": round(peak, 1),
               "peak_growth_mb": round(peak - rss_before, 1)}, sys.stdout)


if __name__ == "__main__":
    main()

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

from sqlalchemy import event


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    from eventsite import create_app
    from eventsite.infra.db import db
    from eventsite.services.expiry import sweep

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
        expired = sweep(app.config["SWEEP_BATCH_SIZE"])
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    json.dump({"expired": expired, "seconds": round(seconds, 3), "statements": statements,
               "batch_size": app.config["SWEEP_BATCH_SIZE"],
               "rss_before_mb": round(rss_before, 1), "peak_rss_mb": round(peak, 1),
               "peak_growth_mb": round(peak - rss_before, 1)}, sys.stdout)


if __name__ == "__main__":
    main()

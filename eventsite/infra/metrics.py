"""What the processes count for operators (Prometheus, GET /metrics).

Counts that must agree across processes (orders by status, obligations) are
read from the database at scrape time (readmodels.operations); these are the
ones only the process that did the work can measure. Under several gunicorn
workers set PROMETHEUS_MULTIPROC_DIR and they are summed across processes.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

HOLDS_PLACED = Counter("eventsite_holds_placed", "Holds placed (reservations that got their tickets)")
RESERVE_SECONDS = Histogram("eventsite_reserve_seconds", "Time to answer a reservation, granted or refused",
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
SWEEP_RUNS = Counter("eventsite_sweep_runs", "Expiry sweep runs")
SWEEP_SECONDS = Histogram("eventsite_sweep_seconds", "Duration of an expiry sweep",
                          buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300))
SWEEP_EXPIRED = Counter("eventsite_sweep_expired", "Lapsed holds the sweep marked expired")
WEBHOOK_OUTCOMES = Counter("eventsite_webhooks", "Payment provider webhooks by outcome", ["outcome"])
OBLIGATIONS_WORKED = Counter("eventsite_obligations_worked", "Obligation attempts by kind and result",
                             ["kind", "result"])

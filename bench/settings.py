"""Every size and knob of the bench, from the environment (the harness test
shrinks them all); defaults are the figures of the issue."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/eventsite_bench"))
    redis_url: str = field(default_factory=lambda: os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    results_dir: Path = field(default_factory=lambda: Path(
        os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results")))
    # gunicorn: sync workers, one database connection each, so the database
    # sees at most `workers` concurrent transactions from each app.
    workers: int = field(default_factory=lambda: _int("BENCH_WORKERS", 4))
    worker_class: str = field(default_factory=lambda: os.environ.get("BENCH_WORKER_CLASS", "sync"))
    rush_tickets: int = field(default_factory=lambda: _int("BENCH_RUSH_TICKETS", 1000))
    rush_buyers: int = field(default_factory=lambda: _int("BENCH_RUSH_BUYERS", 200))
    rush_after_seconds: float = field(default_factory=lambda: _float("BENCH_RUSH_AFTER_SECONDS", 10))
    rush_max_seconds: float = field(default_factory=lambda: _float("BENCH_RUSH_MAX_SECONDS", 60))
    poll_connections: int = field(default_factory=lambda: _int("BENCH_POLL_CONNECTIONS", 50))
    poll_seconds: float = field(default_factory=lambda: _float("BENCH_POLL_SECONDS", 10))
    history_small: int = field(default_factory=lambda: _int("BENCH_HISTORY_SMALL", 1000))
    history: int = field(default_factory=lambda: _int("BENCH_HISTORY", 1_000_000))
    live_holds: int = field(default_factory=lambda: _int("BENCH_LIVE_HOLDS", 500))
    growth_requests: int = field(default_factory=lambda: _int("BENCH_GROWTH_REQUESTS", 200))
    growth_max_seconds: float = field(default_factory=lambda: _float("BENCH_GROWTH_MAX_SECONDS", 5))
    pgbench_seconds: int = field(default_factory=lambda: _int("BENCH_PGBENCH_SECONDS", 10))
    sweep_holds: int = field(default_factory=lambda: _int("BENCH_SWEEP_HOLDS", 100_000))
    sweep_batch_size: int = field(default_factory=lambda: _int("SWEEP_BATCH_SIZE", 1000))
    # The waiting room (bench/room.py): buyers who join one room before its on-sale, the tickets,
    # the room's admission ceiling, how often each buyer polls its place once the sale is on, the
    # connections the buyers share then (by default the polling scenarios' count: every request
    # waits in gunicorn's backlog behind about that many others), and how long the on-sale may take.
    room_buyers: int = field(default_factory=lambda: _int("BENCH_ROOM_BUYERS", 20_000))
    room_tickets: int = field(default_factory=lambda: _int("BENCH_ROOM_TICKETS", 1000))
    room_admissions_per_minute: int = field(default_factory=lambda: _int("BENCH_ROOM_ADMISSIONS_PER_MINUTE", 6000))
    room_poll_every_seconds: float = field(default_factory=lambda: _float("BENCH_ROOM_POLL_EVERY_SECONDS", 2))
    room_connections: int = field(default_factory=lambda: _int("BENCH_ROOM_CONNECTIONS",
                                                               _int("BENCH_POLL_CONNECTIONS", 50)))
    room_max_seconds: float = field(default_factory=lambda: _float("BENCH_ROOM_MAX_SECONDS", 120))

    @property
    def libpq_url(self) -> str:
        """The same database for psql/pgbench (no SQLAlchemy driver suffix)."""
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def public(self) -> dict:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}

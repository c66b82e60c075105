"""The orchestrator behind `make bench`: database, servers, scenarios, report.

Order of work: seed a small history and measure (growth, 1k); grow it to the
full history and measure again (growth, 1M); the rush on fresh ticket types;
the pgbench reference; the waiting room (bench/room.py: its own event, set
against the rush); polling; the sweep last (in its own process).
"""
from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack

from sqlalchemy import create_engine, text

from . import report, room, seed
from .servers import served, server_env
from .settings import ROOT, Settings

# The product's endpoints the bench drives (contract of the API and shop issues).
API_RESERVE = "/api/v1/events/{slug}/reservations"
API_AVAILABILITY = "/api/v1/events/{slug}/availability"
FRAGMENT = "/events/{slug}/availability"
EVENT_PAGE = "/events/{slug}"  # the full page, as a new visitor (no cookie) gets it


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def client(command: list[str], stdin: str | None = None) -> tuple[str, float]:
    """Run a load client; returns its stdout and the CPU seconds it used (it
    shares the cores with the servers, so its cost is part of the picture)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, input=stdin)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out.stdout, round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)


def load(spec: dict) -> dict:
    """Run one scenario in the load generator's own process (the spec on its stdin: a room's
    places are too many for a command line)."""
    stdout, cpu = client([sys.executable, "-m", "bench.load"], stdin=json.dumps(spec))
    return {**json.loads(stdout), "client_cpu_s": cpu}


def poll_with_wrk(spec: dict) -> dict:
    """The polling scenario through wrk (C, a fraction of the Python client's CPU,
    so more of the two cores go to the server being measured)."""
    threads = min(spec["connections"], os.cpu_count() or 1)
    stdout, cpu = client(
        ["wrk", f"-t{threads}", f"-c{spec['connections']}", f"-d{max(1, round(spec['seconds']))}s", "--timeout", "30s",
         "-s", str(ROOT / "bench" / "poll.lua"), f"http://{spec['host']}:{spec['port']}{spec['path']}"])
    raw = json.loads(stdout.split("BENCH_JSON ", 1)[1])
    seconds = raw["duration_us"] / 1e6
    answered = raw["ok"] + raw["not_modified"]
    return {
        "requests": raw["requests"], "req_per_s": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2), "p99_ms": round(raw["p99_us"] / 1000, 2),
        "share_304": round(raw["not_modified"] / answered, 3) if answered else None,
        "errors": raw["other"] + raw["socket_errors"], "seconds": round(seconds, 3), "client": "wrk",
        "client_cpu_s": cpu,
    }


class Bench:
    def __init__(self, settings: Settings):
        self.s = settings
        self.engine = create_engine(settings.database_url)
        self.results: dict = {"rush": {}, "reference": {}, "polling": {}, "growth": {}, "sweep": {}, "room": {}}

    # --- scenarios ----------------------------------------------------------

    def growth(self, label: str, targets: dict[str, tuple[int, str]], reserve_tt: int) -> None:
        """Latency of one request at a time, availability and reserving, on the history-laden event."""
        for name, (port, path) in targets.items():
            spec = {"scenario": "sequential", "host": "127.0.0.1", "port": port, "path": path,
                    "requests": self.s.growth_requests, "max_seconds": self.s.growth_max_seconds}
            if name.endswith("reserve"):
                spec |= {"method": "POST", "ticket_type_id": reserve_tt, "expect": [201]}
            self.results["growth"].setdefault(name, {})[label] = load(spec)

    def rush(self, name: str, port: int) -> None:
        slug = f"rush-{name}"
        _event, tt = seed.create_event(self.engine, slug, self.s.rush_tickets)
        result = load({"scenario": "rush", "host": "127.0.0.1", "port": port, "path": API_RESERVE.format(slug=slug),
                       "ticket_type_id": tt, "tickets": self.s.rush_tickets, "buyers": self.s.rush_buyers,
                       "after_seconds": self.s.rush_after_seconds, "max_seconds": self.s.rush_max_seconds})
        given = seed.taken(self.engine, tt)
        result["db_taken"] = given["sold"] + given["held"]
        result["oversold"] = max(0, result["db_taken"] - given["capacity"])
        self.results["rush"][name] = result

    def pgbench(self) -> None:
        binary = shutil.which("pgbench")
        if binary is None:
            self.results["reference"]["pgbench"] = {"skipped": "pgbench not installed (postgresql-client)"}
            return
        event_id, tt = seed.create_event(self.engine, "pgbench-hot", 2_000_000_000)
        clients = self.s.workers
        out = subprocess.run(
            [binary, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
             "-T", str(self.s.pgbench_seconds), "-D", f"tt={tt}", "-D", f"ev={event_id}",
             "-f", str(ROOT / "bench" / "hot_row.sql"), self.s.libpq_url],
            capture_output=True, text=True, check=True)
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
        latency = re.search(r"latency average = ([\d.]+) ms", out.stdout)
        failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
        self.results["reference"]["pgbench"] = {
            "clients": clients, "tps": round(float(tps.group(1)), 1),
            "latency_avg_ms": float(latency.group(1)) if latency else None,
            "failed": int(failed.group(1)) if failed else 0, "seconds": self.s.pgbench_seconds}

    def poll(self, name: str, port: int, path: str) -> None:
        spec = {"scenario": "poll", "host": "127.0.0.1", "port": port, "path": path,
                "connections": self.s.poll_connections, "seconds": self.s.poll_seconds}
        self.results["polling"][name] = poll_with_wrk(spec) if shutil.which("wrk") else load(spec)

    def sweep(self) -> None:
        event_id, tt = seed.create_event(self.engine, "sweep", 2_000_000_000)
        seed.add_holds(self.engine, event_id, tt, self.s.sweep_holds, prefix="lapsed-", ttl_seconds=-60,
                       age_seconds=16 * 60)
        env = {**server_env(self.s), "SWEEP_BATCH_SIZE": str(self.s.sweep_batch_size)}
        out = subprocess.run([sys.executable, "-m", "bench.sweep"], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True)
        result = json.loads(out.stdout)
        with self.engine.connect() as conn:
            result["left_lapsed"] = conn.execute(text(
                "SELECT count(*) FROM orders WHERE event_id = :e AND status IN ('reserved', 'payment_processing')"),
                {"e": event_id}).scalar_one()
        result["holds"] = self.s.sweep_holds
        self.results["sweep"] = result

    # --- the whole run -------------------------------------------------------

    def run(self) -> dict:
        from eventsite import create_app
        from eventsite.infra import schema

        s = self.s
        started = time.monotonic()
        self.results["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
        seed.ensure_database(s)
        app = create_app({"SQLALCHEMY_DATABASE_URI": s.database_url})
        log("resetting the bench database (real migrations)")
        schema.recreate(app)
        event_id, classic = seed.create_event(self.engine, "classic", 2_000_000_000)
        seed.add_holds(self.engine, event_id, classic, s.live_holds, prefix="live-", ttl_seconds=3600, age_seconds=60)
        history = seed.grow_history(self.engine, event_id, classic, 0, s.history_small)

        with ExitStack() as stack:
            log(f"starting gunicorn x3 ({s.workers} {s.worker_class} workers each)")
            site = stack.enter_context(served(s, "eventsite", "app:create_app()"))
            naive = stack.enter_context(served(s, "naive", "bench.naive:create_app()"))
            bare = stack.enter_context(served(s, "bare", "bench.bare:app"))
            on_classic = {
                "eventsite fragment": (site, FRAGMENT.format(slug="classic")),
                "eventsite api availability": (site, API_AVAILABILITY.format(slug="classic")),
                "naive availability": (naive, API_AVAILABILITY.format(slug="classic")),
            }
            growth_targets = {
                **on_classic,
                "eventsite api reserve": (site, API_RESERVE.format(slug="classic")),
                "naive reserve": (naive, API_RESERVE.format(slug="classic")),
            }
            small, large = f"{s.history_small} orders", f"{s.history} orders"
            log(f"growth at {small}")
            self.growth(small, growth_targets, classic)
            log(f"seeding history to {s.history} orders")
            t0 = time.monotonic()
            history = seed.grow_history(self.engine, event_id, classic, history, s.history)
            self.results["seed_seconds"] = round(time.monotonic() - t0, 1)
            log(f"growth at {large}")
            self.growth(large, growth_targets, classic)

            log("rush: eventsite, then naive")
            self.rush("eventsite", site)
            self.rush("naive", naive)
            log("pgbench hot-row reference")
            self.pgbench()
            self.results["room"] = room.RoomBench(s, site, bare).run(self.results["rush"]["eventsite"])

            log("polling")
            pages = {**on_classic, "eventsite event page": (site, EVENT_PAGE.format(slug="classic")),
                     "bare": (bare, FRAGMENT.format(slug="classic"))}
            for name, (port, path) in pages.items():
                self.poll(name, port, path)
        self.results["reference"]["bare"] = self.results["polling"].pop("bare")

        log(f"sweep of {s.sweep_holds} lapsed holds")
        self.sweep()
        self.results["total_seconds"] = round(time.monotonic() - started, 1)
        return self.results


def main() -> None:
    settings = Settings()
    settings.results_dir.mkdir(parents=True, exist_ok=True)
    results = Bench(settings).run()
    document = report.build(settings, results)
    markdown = report.write(settings.results_dir, document)
    print(markdown, end="")


if __name__ == "__main__":
    main()

"""The rush over two web nodes behind HAProxy, set against the same rush on one node direct
(`python -m bench.two_nodes`; results in bench/results/two_nodes.{json,md}).

Both runs use the same gunicorn settings per node (BENCH_WORKERS sync workers), the same load
generator (bench/load.py's rush: BENCH_RUSH_BUYERS buyers for BENCH_RUSH_TICKETS tickets of one
ticket type, over the JSON API) and each its own fresh ticket type on the bench database, reset with
the real migrations. Reported: granted/s until sold out, granted latency, errors, and oversold
(sold + live holds over capacity, read from the database). One hot ticket type is one row lock: a
second node adds web workers, not grants, once the lock (and the machine's cores) is the ceiling.
"""
from __future__ import annotations

import json
import os
import time

from sqlalchemy import create_engine

from devtools.cluster import cluster

from . import seed
from .run import API_RESERVE, load, log
from .servers import server_env
from .settings import Settings


def rush(settings: Settings, engine, slug: str, port: int) -> dict:
    _event, tt = seed.create_event(engine, slug, settings.rush_tickets)
    result = load({"scenario": "rush", "host": "127.0.0.1", "port": port, "path": API_RESERVE.format(slug=slug),
                   "ticket_type_id": tt, "tickets": settings.rush_tickets, "buyers": settings.rush_buyers,
                   "after_seconds": settings.rush_after_seconds, "max_seconds": settings.rush_max_seconds})
    given = seed.taken(engine, tt)
    result["db_taken"] = given["sold"] + given["held"]
    result["oversold"] = max(0, result["db_taken"] - given["capacity"])
    return result


def main() -> None:
    from eventsite import create_app
    from eventsite.infra import schema

    s = Settings()
    s.results_dir.mkdir(parents=True, exist_ok=True)
    seed.ensure_database(s)
    schema.recreate(create_app({"SQLALCHEMY_DATABASE_URI": s.database_url, "REDIS_URL": s.redis_url}))
    engine = create_engine(s.database_url)
    results: dict = {"load_average_at_start": [round(x, 2) for x in os.getloadavg()], "workers_per_node": s.workers,
                     "buyers": s.rush_buyers, "tickets": s.rush_tickets}
    folder = s.results_dir / "two_nodes"
    folder.mkdir(exist_ok=True)
    log(f"two nodes behind HAProxy, {s.workers} {s.worker_class} workers each")
    with cluster(server_env(s), nodes=2, workers=s.workers, worker_class=s.worker_class, folder=folder,
                 log_level="notice") as site:
        log("rush: one node direct")
        results["one node direct"] = rush(s, engine, "rush-one-node", site.nodes[0].port)
        log("rush: two nodes through HAProxy")
        results["two nodes via haproxy"] = rush(s, engine, "rush-two-nodes", site.port)
    (s.results_dir / "two_nodes.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = ["| setup | granted | granted/s | p50 ms | p99 ms | errors | oversold |", "|---|---|---|---|---|---|---|"]
    for name in ("one node direct", "two nodes via haproxy"):
        r = results[name]
        rows.append(f"| {name} | {r['granted']} | {r['granted_per_s']} | {r['granted_latency']['p50_ms']} |"
                    f" {r['granted_latency']['p99_ms']} | {r['errors']} | {r['oversold']} |")
    markdown = (f"# Two web nodes behind HAProxy ({time.strftime('%Y-%m-%d %H:%M')})\n\n"
                f"{s.rush_buyers} buyers for {s.rush_tickets} tickets of one ticket type (API reserve), "
                f"{s.workers} {s.worker_class} workers per node, {os.cpu_count()} cores, load average at start "
                f"{results['load_average_at_start'][0]}.\n\n" + "\n".join(rows) + "\n")
    (s.results_dir / "two_nodes.md").write_text(markdown)
    print(markdown, end="")


if __name__ == "__main__":
    main()

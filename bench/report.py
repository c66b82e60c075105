"""latest.json and latest.md: machine, versions, settings, figures, targets."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import create_engine, text

from .settings import ROOT, Settings


def machine(settings: Settings) -> dict:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
    engine.dispose()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(), "cpu": cpu,
        "memory_gb": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(), "postgresql": pg, "flask": version("flask"),
        "gunicorn": version("gunicorn"), "sqlalchemy": version("sqlalchemy"), "psycopg": version("psycopg"),
        "commit": commit.stdout.strip() or None,
    }


def _get(d: dict, *keys):
    for key in keys:
        if not isinstance(d, dict) or d.get(key) is None:
            return None
        d = d[key]
    return d


def ratio(a, b) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def check(name: str, value, ok) -> dict:
    return {"target": name, "value": value, "met": None if value is None else bool(ok(value))}


def targets(results: dict) -> list[dict]:
    """The issue's targets, each judged from this run's figures (None: not measurable here)."""
    rush = _get(results, "rush", "eventsite") or {}
    pg_tps = _get(results, "reference", "pgbench", "tps")
    bare = _get(results, "reference", "bare", "req_per_s")
    fragment = _get(results, "polling", "eventsite fragment") or {}
    page = _get(results, "polling", "eventsite event page") or {}  # wrk sends no cookie: each a new visitor
    growth = results.get("growth", {})
    sweep = results.get("sweep", {})

    out = [
        check("rush: oversold == 0", rush.get("oversold"), lambda v: v == 0),
        check("rush: errors == 0", rush.get("errors"), lambda v: v == 0),
        check("rush: granted holds/s >= 0.5 x pgbench tps", ratio(rush.get("granted_per_s"), pg_tps),
              lambda v: v >= 0.5),
        check("rush: refused/s after sell-out >= 5 x granted/s",
              ratio(rush.get("refused_after_sell_out_per_s"), rush.get("granted_per_s")), lambda v: v >= 5),
        check("polling: fragment req/s >= 0.5 x bare", ratio(fragment.get("req_per_s"), bare), lambda v: v >= 0.5),
        check("polling: fragment p99 < 50 ms", fragment.get("p99_ms"), lambda v: v < 50),
        check("new visitors: event page req/s >= 0.5 x bare", ratio(page.get("req_per_s"), bare), lambda v: v >= 0.5),
        check("new visitors: event page p99 < 50 ms", page.get("p99_ms"), lambda v: v < 50),
    ]
    for name in ("eventsite fragment", "eventsite api availability", "eventsite api reserve"):
        sizes = list(growth.get(name, {}).values())
        growth_ratio = ratio(_get(sizes[-1], "p50_ms"), _get(sizes[0], "p50_ms")) if len(sizes) == 2 else None
        out.append(check(f"growth: {name} p50 large/small <= 1.5", growth_ratio, lambda v: v <= 1.5))
    out.append(check("sweep: all holds in < 10 s", sweep.get("seconds"),
                     lambda v: v < 10 and sweep.get("left_lapsed") == 0))
    return out + room_targets(results.get("room"))


def room_targets(room: dict | None) -> list[dict]:
    """The waiting room issue's targets (bench/room.py)."""
    if not room:
        return []
    sale, checks = room["onsale"], room["checks"]
    honest = (checks["places_holding_twice"], checks["holds_without_place"], checks["holds_of_places_never_admitted"])
    draw = ("seed_hidden_before", "seed_matches_hash", "order_is_the_rules", "admitted_in_draw_order")
    return [
        check("room: join req/s >= 0.8 x bare", room["joins"]["ratio"], lambda v: v >= 0.8),
        check("room: poll req/s >= 0.8 x bare", room["polls"]["ratio"], lambda v: v >= 0.8),
        check("room: admitted buyers' reserve p99 < 200 ms", sale["reserve_latency"]["p99_ms"], lambda v: v < 200),
        check("room: oversold == 0, one hold per admitted place", checks["oversold"],
              lambda v: v == 0 and not any(honest)),
        check("room: admitted places = the published draw's first, in order", checks["admitted"],
              lambda v: v > 0 and all(checks[key] for key in draw)),
        check("room: sold out (seconds from the on-sale), no errors", sale["seconds_to_sell_out"] or "not sold out",
              lambda v: sale["sold_out"] and sale["errors"] == 0 and sale["polls"]["errors"] == 0),
    ]


def build(settings: Settings, results: dict, judge=targets) -> dict:
    return {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(settings), "settings": settings.public(), "results": results,
            "targets": judge(results)}


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(header: list[str], rows: list[list]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows])


def _spread(latency: dict) -> str:
    return " / ".join(_fmt(latency[key]) for key in ("p50_ms", "p95_ms", "p99_ms"))


def _machine(m: dict, load_at_start) -> str:
    return (f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB, shared: load average "
            f"{load_at_start} at start, {m['load_average_at_end']} at end. Python {m['python']}, "
            f"PostgreSQL {m['postgresql']}, Flask {m['flask']}, "
            f"gunicorn {m['gunicorn']}, SQLAlchemy {m['sqlalchemy']}, psycopg {m['psycopg']}; commit {m['commit']}.")


def _targets_table(doc: dict) -> list[str]:
    return ["", "## Targets", ""] + _table(
        ["target", "value", "met"],
        [[t["target"], t["value"], {True: "yes", False: "NO", None: "not measured"}[t["met"]]] for t in doc["targets"]])


def markdown(doc: dict) -> str:
    r, m, s = doc["results"], doc["machine"], doc["settings"]
    lines = [f"# eventsite bench, {doc['generated_at']}", "", _machine(m, r["load_average_at_start"]),
             f"Settings: gunicorn {s['workers']} {s['worker_class']} workers per app (database concurrency "
             f"{s['workers']}); rush {s['rush_tickets']} tickets, {s['rush_buyers']} buyers, "
             f"{s['rush_after_seconds']} s after sell-out; polling {s['poll_connections']} connections x "
             f"{s['poll_seconds']} s; history {s['history_small']} vs {s['history']} orders + {s['live_holds']} "
             f"live holds; sweep {s['sweep_holds']} holds, batch {s['sweep_batch_size']}. "
             f"Run took {r.get('total_seconds')} s.", ""]

    lines += ["## Rush (one ticket type, one ticket per request)", ""]
    rows = []
    for name, x in r["rush"].items():
        rows.append([name, x["granted"], x["oversold"], x["errors"], x["seconds_to_sell_out"], x["granted_per_s"],
                     _spread(x["granted_latency"]), _spread(x["refused_latency"]), x["refused_after_sell_out_per_s"],
                     ratio(x["granted_per_s"], _get(r, "reference", "pgbench", "tps")),
                     ratio(x["refused_after_sell_out_per_s"], x["granted_per_s"]),
                     ratio(x["client_cpu_s"], x["seconds"])])
    lines += _table(["app", "granted", "oversold", "errors", "sell-out s", "granted/s", "granted p50/p95/p99 ms",
                     "refused p50/p95/p99 ms", "refused/s after", "granted/s ÷ pgbench", "refused/s ÷ granted/s",
                     "client CPU (cores)"],
                    rows)

    pg, bare = r["reference"]["pgbench"], r["reference"]["bare"]
    lines += ["", "## References", ""]
    lines += _table(["reference", "throughput", "latency", "notes"], [
        ["pgbench hot row (lock, insert order + item, commit)", f"{_fmt(pg.get('tps'))} tps",
         f"avg {_fmt(pg.get('latency_avg_ms'))} ms", pg.get("skipped") or f"{pg.get('clients')} clients, "
                                                      f"{pg.get('failed')} failed"],
        ["bare Flask fragment", f"{_fmt(bare.get('req_per_s'))} req/s",
         f"p50 {_fmt(bare.get('p50_ms'))} / p99 {_fmt(bare.get('p99_ms'))} ms", f"{bare.get('errors')} errors"],
    ])

    lines += ["", f"## Polling ({s['poll_connections']} connections, {s['history']} historical orders)", ""]
    rows = [[name, x["req_per_s"], x["p50_ms"], x["p99_ms"], x["share_304"], x["errors"],
             ratio(x["req_per_s"], bare.get("req_per_s")), x["requests"], ratio(x["client_cpu_s"], x["seconds"])]
            for name, x in r["polling"].items()]
    lines += _table(["endpoint", "req/s", "p50 ms", "p99 ms", "304 share", "errors", "÷ bare", "requests",
                     "client CPU (cores)"], rows)

    lines += ["", "## Growth (one request at a time; p50 ms, p95 in brackets)", ""]
    rows = []
    for name, sizes in r["growth"].items():
        cells = [f"{_fmt(x['p50_ms'])} ({_fmt(x['p95_ms'])}), n={x['requests']}" for x in sizes.values()]
        values = list(sizes.values())
        rows.append([name, *cells, ratio(_get(values[-1], "p50_ms"), _get(values[0], "p50_ms"))])
    sizes = list(next(iter(r["growth"].values()), {}).keys())
    lines += _table(["endpoint", *sizes, "ratio p50"], rows)

    sw = r["sweep"]
    lines += ["", "## Sweep (own process)", ""]
    lines += _table(["lapsed holds", "expired", "left", "seconds", "statements", "peak RSS MB (growth)"],
                    [[sw.get("holds"), sw.get("expired"), sw.get("left_lapsed"), sw.get("seconds"),
                      sw.get("statements"), f"{_fmt(sw.get('peak_rss_mb'))} (+{_fmt(sw.get('peak_growth_mb'))})"]])

    if r.get("room"):
        lines += ["", *room_lines(r["room"], s)]
    return "\n".join(lines + _targets_table(doc)) + "\n"


def room_lines(room: dict, s: dict) -> list[str]:
    """The waiting room's section: throughput against the bare endpoint, the on-sale, the draw."""
    joins, polls, sale, c = room["joins"], room["polls"], room["onsale"], room["checks"]
    settings = room["room"]
    lines = [f"## Waiting room ({room['buyers']:,} buyers in one room, {room['tickets']:,} tickets)", "",
             f"The room: {settings['admissions_per_minute']:,} admissions a minute at most, admitted while open "
             f"admissions stay within {settings['stock_multiple']} x what can still be bought, an admission lasts "
             f"{settings['admission_minutes']} min; one ticket per order. Joins (API, one email each) and polls "
             f"(each place in turn) over {s['poll_connections']} connections, against the bare endpoint in the "
             f"same run. The on-sale: every buyer polls its place every {s['room_poll_every_seconds']} s over "
             f"{s['room_connections']} shared connections and reserves as soon as it is admitted.", ""]

    def row(name: str, x: dict, bare: dict | None = None, by: float | None = None) -> list:
        return [name, x["req_per_s"], bare and bare["req_per_s"], by, f"{_fmt(x['p50_ms'])} / {_fmt(x['p99_ms'])}",
                x["errors"], x["requests"], ratio(x.get("client_cpu_s"), x["seconds"])]

    lines += _table(["request", "req/s", "bare req/s", "÷ bare", "p50 / p99 ms", "errors", "requests",
                     "client CPU (cores)"], [
        row("join (API)", joins["eventsite"], joins["bare"], joins["ratio"]),
        row(f"poll a place (API, {s['poll_seconds']} s)", polls["eventsite"], polls["bare"], polls["ratio"]),
        row("poll a place during the on-sale", {**sale["polls"], "client_cpu_s": sale.get("client_cpu_s")})])
    no_room = room["no_room_rush"]
    lines += ["", *_table(
        ["admitted", "reserved (201)", "too late (409)", "errors", "held+sold / capacity", "oversold",
         "sell-out s (client / db)", "first admission seen s", "last admission s",
         "admitted reserve p50/p95/p99 ms", "reserved (201) p50/p95/p99 ms", "no room: granted p50/p95/p99 ms"],
        [[c["admitted"], sale["granted"], sale["refused"], sale["errors"], f"{c['db_taken']:,} / {c['capacity']:,}",
          c["oversold"], f"{_fmt(sale['seconds_to_sell_out'])} / {_fmt(c['db_seconds_to_sell_out'])}",
          sale["first_admission_seen_s"], c["last_admission_s"], _spread(sale["reserve_latency"]),
          _spread(sale["granted_latency"]), _spread(no_room["granted_latency"]) if no_room.get("granted_latency")
          else "-"]])]
    yes = {True: "yes", False: "NO"}
    lines += ["", f"During the on-sale a buyer's poll was answered every {_fmt(sale['answered_every_s'])} s on "
                  f"average (asked every {s['room_poll_every_seconds']} s); the admitted buyers' reserves waited in "
                  "the same backlog as the polls."]
    lines += ["", f"The draw: seed hidden before the on-sale {yes[c['seed_hidden_before']]}; published seed matches "
                  f"the hash shown before {yes[c['seed_matches_hash']]}; published order of the {c['drawn']:,} "
                  f"places = the rule recomputed here {yes[c['order_is_the_rules']]}; the {c['admitted']:,} "
                  f"places admitted = the draw's first {c['admitted']:,}, in its order "
                  f"{yes[c['admitted_in_draw_order']]}. Holds without a place {c['holds_without_place']}, places "
                  f"holding twice {c['places_holding_twice']}, holds of places never admitted "
                  f"{c['holds_of_places_never_admitted']}."]
    return lines


def build_room(settings: Settings, results: dict) -> dict:
    """`make bench-room` alone: the same document, with the room's results and targets only."""
    return build(settings, results, judge=lambda r: room_targets(r["room"]))


def write_room(results_dir: Path, doc: dict) -> str:
    r = doc["results"]
    text_md = "\n".join([f"# eventsite waiting room bench, {doc['generated_at']}", "",
                         _machine(doc["machine"], r["load_average_at_start"]) + f" Run took {r['total_seconds']} s.",
                         "", *room_lines(r["room"], doc["settings"]), *_targets_table(doc)]) + "\n"
    (results_dir / "room.json").write_text(json.dumps(doc, indent=2) + "\n")
    (results_dir / "room.md").write_text(text_md)
    return text_md


def write(results_dir: Path, doc: dict) -> str:
    text_md = markdown(doc)
    (results_dir / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    (results_dir / "latest.md").write_text(text_md)
    return text_md

"""The bench harness end to end at tiny sizes, so `make bench` cannot rot.

Figures are never asserted; what is asserted is that every scenario ran and
reported its keys, and that correctness held: every ticket granted exactly
once, none oversold, no errors, every lapsed hold swept.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/eventsite_test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

TINY = {
    "BENCH_RUSH_TICKETS": "50", "BENCH_RUSH_BUYERS": "20", "BENCH_RUSH_AFTER_SECONDS": "2",
    "BENCH_POLL_CONNECTIONS": "5", "BENCH_POLL_SECONDS": "2", "BENCH_HISTORY_SMALL": "200",
    "BENCH_HISTORY": "2000", "BENCH_LIVE_HOLDS": "20", "BENCH_GROWTH_REQUESTS": "20",
    "BENCH_PGBENCH_SECONDS": "2", "BENCH_SWEEP_HOLDS": "500", "SWEEP_BATCH_SIZE": "200", "BENCH_WORKERS": "2",
    "BENCH_ROOM_BUYERS": "200", "BENCH_ROOM_TICKETS": "30", "BENCH_ROOM_MAX_SECONDS": "60",
}


def test_the_whole_bench_runs_and_reports_every_scenario(tmp_path):
    env = {**os.environ, **TINY, "BENCH_RESULTS_DIR": str(tmp_path),
           # Its own database next to the test database: the bench drops and migrates it.
           "BENCH_DATABASE_URL": TEST_DATABASE_URL + "_harness", "BENCH_REDIS_URL": TEST_REDIS_URL}
    run = subprocess.run([sys.executable, "-m", "bench"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]

    doc = json.loads((tmp_path / "latest.json").read_text())
    markdown = (tmp_path / "latest.md").read_text()
    assert run.stdout == markdown
    for key in ("nproc", "memory_gb", "python", "postgresql", "flask", "gunicorn"):
        assert doc["machine"][key]
    results = doc["results"]
    assert set(results) >= {"rush", "reference", "polling", "growth", "sweep", "room"}
    for heading in ("## Rush", "## References", "## Polling", "## Growth", "## Sweep", "## Waiting room",
                    "## Targets"):
        assert heading in markdown

    assert set(results["rush"]) == {"eventsite", "naive"}
    for name, rush in results["rush"].items():
        assert rush["granted"] == 50 and rush["db_taken"] == 50, name
        assert rush["oversold"] == 0 and rush["errors"] == 0, name
        assert rush["sold_out"] and rush["refused"] > 0, name
        for key in ("seconds_to_sell_out", "granted_per_s", "refused_after_sell_out_per_s"):
            assert rush[key] > 0, (name, key)
        assert set(rush["granted_latency"]) == {"p50_ms", "p95_ms", "p99_ms"}

    assert results["reference"]["pgbench"]["tps"] > 0
    assert results["reference"]["bare"]["requests"] > 0 and results["reference"]["bare"]["errors"] == 0
    assert {t["target"]: t["met"] for t in doc["targets"]}["rush: oversold == 0"] is True

    assert set(results["polling"]) == {"eventsite fragment", "eventsite api availability", "naive availability",
                                        "eventsite event page"}
    for name, poll in results["polling"].items():
        assert poll["requests"] > 0 and poll["errors"] == 0, name
        if name != "eventsite event page":  # a new visitor's whole page: no ETag (its token is its own)
            assert poll["share_304"] > 0.5, name  # nothing changed: watchers mostly get 304s
        assert poll["p50_ms"] > 0 and poll["p99_ms"] >= poll["p50_ms"], name

    assert set(results["growth"]) == {"eventsite fragment", "eventsite api availability", "naive availability",
                                      "eventsite api reserve", "naive reserve"}
    for name, sizes in results["growth"].items():
        assert list(sizes) == ["200 orders", "2000 orders"], name
        for figures in sizes.values():
            assert figures["requests"] > 0 and figures["errors"] == 0, name

    sweep = results["sweep"]
    assert sweep["expired"] == 500 and sweep["left_lapsed"] == 0
    assert sweep["statements"] > 0 and sweep["peak_rss_mb"] > 0

    room = results["room"]
    assert room["joins"]["eventsite"]["requests"] == 200 and room["joins"]["eventsite"]["errors"] == 0
    assert room["polls"]["eventsite"]["requests"] > 0 and room["polls"]["eventsite"]["errors"] == 0
    sale, checks = room["onsale"], room["checks"]
    assert sale["sold_out"] and sale["granted"] == 30 and sale["errors"] == 0
    assert checks["db_taken"] == 30 and checks["oversold"] == 0
    assert checks["places_holding_twice"] == checks["holds_without_place"] == 0
    assert checks["holds_of_places_never_admitted"] == 0
    assert checks["drawn"] == 200 and checks["admitted"] >= 30
    for key in ("seed_hidden_before", "seed_matches_hash", "order_is_the_rules", "admitted_in_draw_order"):
        assert checks[key] is True, key

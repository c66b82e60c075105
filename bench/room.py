"""The waiting room's benchmark: a scenario of `make bench`, and alone `python -m bench.room`
(`make bench-room`, results in bench/results/room.{json,md}).

BENCH_ROOM_BUYERS (20,000) buyers in one event's room for BENCH_ROOM_TICKETS (1,000) tickets, with
the real processes on the wall clock:
1. Joins: every buyer joins through the API, one email each, over the bench's poll connections;
   the same requests to the bare endpoint, in the same run, are the ceiling.
2. Polls: the buyers' places, each in turn, for BENCH_POLL_SECONDS; again against the bare endpoint.
3. The on-sale: it is moved to a few seconds ahead once everyone has joined (how long 20,000 joins
   take is not known beforehand; to the room it is as if the organizer had set it there), then
   every buyer polls its place every BENCH_ROOM_POLL_EVERY_SECONDS over BENCH_ROOM_CONNECTIONS
   shared connections and, once admitted, reserves a ticket at once with its admission.
4. Checks: nothing oversold and no place holding twice (SQL); the seed matches the hash shown before
   the on-sale, the published order is the published rule's (recomputed here), and the places
   admitted are the draw's first ones in its order (up to each second's batch); time to sell out.
The admitted buyers' reserve latency is set against the rush without a room (`make bench`'s, or
one run here when run alone).
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from eventsite import create_app
from eventsite.domain.models import Event
from eventsite.infra import room_store, schema
from eventsite.infra.db import db
from eventsite.services import waiting_room

from . import report, run, seed
from .servers import served, server_env
from .settings import Settings

SLUG = "room"
ROOM_JOIN = "/api/v1/events/{slug}/room"
ROOM_DRAW = "/api/v1/events/{slug}/room/draw"
ON_SALE_LEAD_SECONDS = 5  # from moving the on-sale to it: the servers' state is republished meanwhile


def room_values(settings: Settings) -> dict:
    """The room as the organizer would set it for this sale: generous, so the bench measures the
    servers, not the ceiling (6,000 a minute is 100 admissions a second)."""
    return {"enabled": True, "opens_minutes_before": 120, "admission_minutes": 2,
            "admissions_per_minute": settings.room_admissions_per_minute, "stock_multiple": 2}


class RoomBench:
    """The room's scenario on servers already running: eventsite on ``site``, bench/bare.py on ``bare``."""

    def __init__(self, settings: Settings, site: int, bare: int):
        self.s, self.site, self.bare = settings, site, bare
        self.engine = create_engine(settings.database_url)
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": settings.database_url, "REDIS_URL": settings.redis_url,
                               "SECRET_KEY": server_env(settings)["SECRET_KEY"]})

    def run(self, no_room_rush: dict) -> dict:
        s = self.s
        with self.app.app_context():
            room_store.clear()  # event ids restart with the database: no queue of an earlier run
        event_id, tt = self.seed()
        spec = {"host": "127.0.0.1", "connections": s.poll_connections}
        run.log(f"room: {s.room_buyers} joins, then the bare endpoint")
        joins = {name: run.load({**spec, "scenario": "joins", "port": port, "path": ROOM_JOIN.format(slug=SLUG),
                                 "requests": s.room_buyers, "prefix": name})
                 for name, port in (("eventsite", self.site), ("bare", self.bare))}
        places = joins["eventsite"].pop("places")
        joins["bare"].pop("places")
        run.log(f"room: polling {len(places)} places, then the bare endpoint")
        polls = {name: run.load({**spec, "scenario": "poll", "port": port, "paths": places,
                                 "seconds": s.poll_seconds})
                 for name, port in (("eventsite", self.site), ("bare", self.bare))}
        before = self.fetch(ROOM_DRAW.format(slug=SLUG))
        on_sale = self.move_on_sale(event_id, tt)
        run.log(f"room: the on-sale at {on_sale:%H:%M:%S}, {len(places)} buyers polling")
        sale = run.load({"scenario": "onsale", "host": "127.0.0.1", "port": self.site, "places": places,
                         "on_sale_at": on_sale.timestamp(), "every_seconds": s.room_poll_every_seconds,
                         "connections": s.room_connections, "reserve_path": run.API_RESERVE.format(slug=SLUG),
                         "ticket_type_id": tt, "tickets": s.room_tickets,
                         "after_seconds": 2 * s.room_poll_every_seconds, "max_seconds": s.room_max_seconds})
        return {"buyers": s.room_buyers, "tickets": s.room_tickets, "room": room_values(s),
                "joins": _against_bare(joins), "polls": _against_bare(polls), "onsale": sale,
                "checks": self.checks(event_id, tt, on_sale, before),
                "no_room_rush": {key: no_room_rush.get(key) for key in ("granted", "granted_latency")}}

    # --- the event, its room and its on-sale ---------------------------------------------

    def seed(self) -> tuple[int, int]:
        """One ticket type of BENCH_ROOM_TICKETS, one per order, its on-sale an hour away, and the room."""
        event_id, tt = seed.create_event(self.engine, SLUG, self.s.room_tickets)
        self._set_on_sale(event_id, tt, datetime.now(UTC) + timedelta(hours=1))
        return event_id, tt

    def move_on_sale(self, event_id: int, tt: int) -> datetime:
        at = datetime.now(UTC) + timedelta(seconds=ON_SALE_LEAD_SECONDS)
        self._set_on_sale(event_id, tt, at)
        return at

    def _set_on_sale(self, event_id: int, tt: int, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE ticket_types SET per_order_limit = 1, sales_start = :at WHERE id = :tt"),
                         {"at": at, "tt": tt})
        with self.app.app_context():  # the organizer's setting, published to every server's polls
            waiting_room.configure(db.session.get(Event, event_id), room_values(self.s))

    def fetch(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.site}{path}", timeout=30) as answer:
            return json.load(answer)

    # --- what must hold ----------------------------------------------------------------

    def checks(self, event_id: int, tt: int, on_sale: datetime, before: dict) -> dict:
        given = seed.taken(self.engine, tt)
        with self.engine.connect() as conn:
            counts = conn.execute(text(
                "SELECT count(*) FILTER (WHERE room_place IS NULL) AS without_place,"
                " count(room_place) - count(DISTINCT room_place) AS places_twice FROM orders WHERE event_id = :e"),
                {"e": event_id}).one()
            sold_out_at = conn.execute(text(
                "SELECT min(created_at) FROM (SELECT o.created_at, sum(oi.quantity) OVER (ORDER BY o.created_at, o.id)"
                " AS taken FROM orders o JOIN order_items oi ON oi.order_id = o.id WHERE oi.ticket_type_id = :tt) t"
                " WHERE taken >= :capacity"), {"tt": tt, "capacity": given["capacity"]}).scalar()
            held_places = set(conn.execute(text("SELECT room_place FROM orders WHERE event_id = :e"),
                                           {"e": event_id}).scalars())
        with self.app.app_context():
            _joined, admitted = room_store.waits(event_id)
        after = self.fetch(ROOM_DRAW.format(slug=SLUG))
        taken = given["sold"] + given["held"]
        return {
            "capacity": given["capacity"], "db_taken": taken, "oversold": max(0, taken - given["capacity"]),
            "holds_without_place": counts.without_place, "places_holding_twice": counts.places_twice,
            "holds_of_places_never_admitted": len(held_places - set(admitted)),
            "db_seconds_to_sell_out": round((sold_out_at - on_sale).total_seconds(), 3) if sold_out_at else None,
            **draw_followed(before, after, admitted),
            "last_admission_s": round(max(admitted.values()) / 1000 - on_sale.timestamp(), 3) if admitted else None,
        }


def draw_followed(before: dict, after: dict, admitted: dict[int, int]) -> dict:
    """Whether the published seed, rule and order check out, as anyone could check them, and whether
    the places admitted ({place: admitted at ms}) are the drawn order's first ones, in its order:
    a place is never admitted in a later second than one behind it."""
    seed = after.get("seed") or ""
    recomputed = sorted(range(1, (after.get("drawn") or 0) + 1),
                        key=lambda place: hmac.new(seed.encode(), str(place).encode(), hashlib.sha256).hexdigest())
    first = (after.get("order") or [])[:len(admitted)]
    return {
        "drawn": after.get("drawn"), "admitted": len(admitted),
        "seed_hidden_before": "seed" not in before or before["seed"] is None,
        "seed_matches_hash": hashlib.sha256(seed.encode()).hexdigest() == before.get("seed_hash"),
        "order_is_the_rules": recomputed == after.get("order"),
        "admitted_in_draw_order": (set(first) == set(admitted)
                                   and all(admitted[a] <= admitted[b] for a, b in itertools.pairwise(first))),
    }


def _against_bare(figures: dict[str, dict]) -> dict:
    return {**figures, "ratio": report.ratio(figures["eventsite"]["req_per_s"], figures["bare"]["req_per_s"])}


def main() -> None:
    """Alone: its own reset of the bench database, the two servers, the rush without a room for the
    comparison, then the room; bench/results/room.{json,md}."""
    s = Settings()
    s.results_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    seed.ensure_database(s)
    bench = run.Bench(s)
    schema.recreate(create_app({"SQLALCHEMY_DATABASE_URI": s.database_url}))
    with ExitStack() as stack:
        site = stack.enter_context(served(s, "eventsite", "app:create_app()"))
        bare = stack.enter_context(served(s, "bare", "bench.bare:app"))
        run.log("rush without a room (the comparison)")
        bench.rush("eventsite", site)
        results = {"room": RoomBench(s, site, bare).run(bench.results["rush"]["eventsite"])}
    results.update(load_average_at_start=load_at_start, total_seconds=round(time.monotonic() - started, 1))
    print(report.write_room(s.results_dir, report.build_room(s, results)), end="")


if __name__ == "__main__":
    main()

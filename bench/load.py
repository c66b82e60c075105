"""The load generator: one asyncio process, a minimal HTTP/1.1 client.

Run as ``python -m bench.load '<json spec>'`` (or with the spec on stdin, for
specs too long for a command line); prints one JSON result on stdout. A
hand-rolled client on asyncio streams keeps the generator cheap (it shares
the two cores with the servers): keep-alive when the server allows it, and a
fresh connection per request when it closes (gunicorn's sync workers do), so
each simulated buyer or watcher owns its connection.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import random
import secrets
import sys
import time
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 30.0


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Connection:
    """One client connection to host:port; reconnects when the server closes."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, *, json_body=None, headers: dict | None = None) -> Response:
        body = json.dumps(json_body).encode() if json_body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: application/json, text/html",
                 f"Content-Length: {len(body)}"]
        if json_body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        reused = self.writer is not None
        try:
            return await asyncio.wait_for(self._exchange(raw), TIMEOUT_SECONDS)
        except (ConnectionError, asyncio.IncompleteReadError, EOFError):
            self.close()
            if not reused:
                raise
            # A kept-alive connection the server had already closed: retry once, fresh.
            return await asyncio.wait_for(self._exchange(raw), TIMEOUT_SECONDS)

    async def _exchange(self, raw: bytes) -> Response:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        status_line = await self.reader.readline()
        if not status_line:
            raise EOFError("connection closed before a response")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, headers, body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def percentiles(samples: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 in milliseconds (nearest rank)."""
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered))) - 1))] * 1000, 2)

    return {"p50_ms": rank(0.50), "p95_ms": rank(0.95), "p99_ms": rank(0.99)}


def count(tally: dict[str, int], key: str) -> None:
    tally[key] = tally.get(key, 0) + 1


# --- scenarios ----------------------------------------------------------------

async def rush(spec: dict) -> dict:
    """``buyers`` buyers reserve one ticket at a time until sold out, then keep
    trying for ``after_seconds``; bounded by ``max_seconds`` in all."""
    host, port, path = spec["host"], spec["port"], spec["path"]
    tickets, after, max_seconds = spec["tickets"], spec["after_seconds"], spec["max_seconds"]
    granted_lat: list[float] = []
    refused_lat: list[float] = []
    refused_after = 0
    errors: dict[str, int] = {}
    start = time.monotonic()
    sold_out_at: float | None = None  # when the last ticket was granted (or first "sold out" seen)
    stop_at = start + max_seconds

    async def buyer(n: int) -> None:
        nonlocal sold_out_at, stop_at, refused_after
        conn = Connection(host, port)
        attempt = 0
        while (t0 := time.monotonic()) < stop_at:
            # A new buyer each time: the shop allows one live hold per email and event.
            attempt += 1
            body = {"email": f"buyer{n}-{attempt}@bench.test",
                    "items": [{"ticket_type_id": spec["ticket_type_id"], "quantity": 1}]}
            try:
                response = await conn.request("POST", path, json_body=body)
            except Exception as exc:  # noqa: BLE001 (every failure is counted, none stops the run)
                count(errors, type(exc).__name__)
                conn.close()
                continue
            t1 = time.monotonic()
            if response.status == 201:
                granted_lat.append(t1 - t0)
                if len(granted_lat) >= tickets and sold_out_at is None:
                    sold_out_at = t1
                    stop_at = min(stop_at, t1 + after)
            elif response.status == 409:
                refused_lat.append(t1 - t0)
                if sold_out_at is not None and t0 >= sold_out_at:
                    refused_after += 1
            else:
                count(errors, f"http_{response.status}")
        conn.close()

    await asyncio.gather(*(buyer(n) for n in range(spec["buyers"])))
    end = time.monotonic()
    sell_seconds = (sold_out_at - start) if sold_out_at else None
    after_seconds = (end - sold_out_at) if sold_out_at else 0.0
    return {
        "granted": len(granted_lat),
        "refused": len(refused_lat),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "sold_out": sold_out_at is not None,
        "seconds_to_sell_out": round(sell_seconds, 3) if sell_seconds else None,
        "granted_per_s": round(len(granted_lat) / sell_seconds, 1) if sell_seconds else None,
        "refused_after_sell_out_per_s": round(refused_after / after_seconds, 1) if after_seconds > 0 else None,
        "granted_latency": percentiles(granted_lat),
        "refused_latency": percentiles(refused_lat),
        "seconds": round(end - start, 3),
    }


async def poll(spec: dict) -> dict:
    """``connections`` watchers poll ``path`` (or each of ``paths`` in turn: the places of a
    waiting room) for ``seconds``, sending back the ETag last seen for it (as a browser does)."""
    host, port = spec["host"], spec["port"]
    paths = itertools.cycle(spec.get("paths") or [spec["path"]])
    etags: dict[str, str] = {}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    start = time.monotonic()
    deadline = start + spec["seconds"]

    async def watcher() -> None:
        conn = Connection(host, port)
        while (t0 := time.monotonic()) < deadline:
            path = next(paths)
            etag = etags.get(path)
            try:
                response = await conn.request("GET", path, headers={"If-None-Match": etag} if etag else None)
            except Exception as exc:  # noqa: BLE001
                count(errors, type(exc).__name__)
                conn.close()
                continue
            latencies.append(time.monotonic() - t0)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if "etag" in response.headers:
                etags[path] = response.headers["etag"]
        conn.close()

    await asyncio.gather(*(watcher() for _ in range(spec["connections"])))
    seconds = time.monotonic() - start
    ok = statuses.get(200, 0) + statuses.get(304, 0)
    bad = {f"http_{s}": n for s, n in statuses.items() if s not in (200, 304)}
    return {**rate(latencies, seconds, {**errors, **bad}),
            "share_304": round(statuses.get(304, 0) / ok, 3) if ok else None, "client": "python"}


def rate(latencies: list[float], seconds: float, errors: dict[str, int]) -> dict:
    """Requests answered, per second, their latency, and what failed."""
    return {"requests": len(latencies), "req_per_s": round(len(latencies) / seconds, 1) if seconds else None,
            **percentiles(latencies), "errors": sum(errors.values()), "error_kinds": errors,
            "seconds": round(seconds, 3)}


async def joins(spec: dict) -> dict:
    """``requests`` buyers join the waiting room at ``path``, one email each, over ``connections``
    connections: the rate, and each place's URL (the answer's Location) in join order."""
    host, port = spec["host"], spec["port"]
    numbers = iter(range(spec["requests"]))
    places: list[str | None] = [None] * spec["requests"]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    start = time.monotonic()

    async def joiner() -> None:
        conn = Connection(host, port)
        for n in numbers:  # shared by every joiner: each number is taken once
            t0 = time.monotonic()
            try:
                response = await conn.request("POST", spec["path"],
                                              json_body={"email": f"{spec['prefix']}{n}@bench.test"})
            except Exception as exc:  # noqa: BLE001
                count(errors, type(exc).__name__)
                conn.close()
                continue
            latencies.append(time.monotonic() - t0)
            if response.status in (200, 201) and "location" in response.headers:
                places[n] = urlsplit(response.headers["location"]).path
            else:
                count(errors, f"http_{response.status}")
        conn.close()

    await asyncio.gather(*(joiner() for _ in range(spec["connections"])))
    return {**rate(latencies, time.monotonic() - start, errors), "places": [p for p in places if p]}


# A place in these phases is still waiting for its turn: its buyer polls again.
WAITING_PHASES = ("before_draw", "drawing", "queued", "paused")


async def onsale(spec: dict) -> dict:
    """The on-sale through a waiting room. From the instant ``on_sale_at`` (epoch seconds) every
    buyer (a place URL of ``places``) polls its place every ``every_seconds``, over ``connections``
    connections they share (the server answers as fast as it can; a buyer is never polled twice at
    once); admitted, the buyer reserves one ticket at once with its admission. Ends
    ``after_seconds`` after ``tickets`` tickets are held, or at ``max_seconds``."""
    host, port, places, every = spec["host"], spec["port"], spec["places"], spec["every_seconds"]
    await asyncio.sleep(max(0.0, spec["on_sale_at"] - time.time()))
    on_sale = time.monotonic() - (time.time() - spec["on_sale_at"])  # the instant, on this clock
    rng = random.Random(0)
    due = [(on_sale + rng.uniform(0, every), n) for n in range(len(places))]
    heapq.heapify(due)
    etags: dict[int, str] = {}
    polls: list[float] = []
    poll_errors: dict[str, int] = {}
    phases: dict[str, int] = {}
    admitted_seen: list[float] = []
    granted: list[float] = []
    refused: list[float] = []
    reserve_errors: dict[str, int] = {}
    run = {"sold_out_at": None, "stop_at": on_sale + spec["max_seconds"], "busy": 0}

    async def reserve(conn: Connection, n: int, admission: str) -> None:
        body = {"email": f"room{n}@bench.test", "admission": admission,
                "items": [{"ticket_type_id": spec["ticket_type_id"], "quantity": 1}]}
        t0 = time.monotonic()
        try:
            response = await conn.request("POST", spec["reserve_path"], json_body=body)
        except Exception as exc:  # noqa: BLE001
            count(reserve_errors, type(exc).__name__)
            conn.close()
            return
        t1 = time.monotonic()
        if response.status == 201:
            granted.append(t1 - t0)
            if len(granted) >= spec["tickets"] and run["sold_out_at"] is None:
                run["sold_out_at"] = t1
                run["stop_at"] = min(run["stop_at"], t1 + spec["after_seconds"])
        elif response.status == 409:  # admitted, but the last tickets went to those ahead
            refused.append(t1 - t0)
        else:
            count(reserve_errors, f"http_{response.status}")

    async def poll_one(conn: Connection, n: int) -> None:
        t0 = time.monotonic()
        try:
            response = await conn.request("GET", places[n], headers={"If-None-Match": etags[n]} if n in etags else None)
        except Exception as exc:  # noqa: BLE001
            count(poll_errors, type(exc).__name__)
            conn.close()
            heapq.heappush(due, (t0 + every, n))
            return
        polls.append(time.monotonic() - t0)
        if response.status not in (200, 304):
            count(poll_errors, f"http_{response.status}")
            heapq.heappush(due, (t0 + every, n))
            return
        if "etag" in response.headers:
            etags[n] = response.headers["etag"]
        phase = response.json()["phase"] if response.status == 200 else "unchanged"
        count(phases, phase)
        if phase == "admitted":
            admitted_seen.append(time.monotonic() - on_sale)
            await reserve(conn, n, response.json()["admission"])
        elif phase in WAITING_PHASES or phase == "unchanged":
            heapq.heappush(due, (t0 + every, n))

    async def connection() -> None:
        conn = Connection(host, port)
        while time.monotonic() < run["stop_at"] and (due or run["busy"]):
            if not due:  # every waiting buyer is being polled: theirs come back when answered
                await asyncio.sleep(0.01)
                continue
            when, n = heapq.heappop(due)
            run["busy"] += 1
            await asyncio.sleep(max(0.0, min(when, run["stop_at"]) - time.monotonic()))
            if time.monotonic() < run["stop_at"]:
                await poll_one(conn, n)
            run["busy"] -= 1
        conn.close()

    await asyncio.gather(*(connection() for _ in range(spec["connections"])))
    seconds = time.monotonic() - on_sale
    sold_out = run["sold_out_at"]
    return {
        "buyers": len(places), "polls": rate(polls, seconds, poll_errors), "phases": phases,
        # How often a buyer's poll was answered, on average: the server's pace, not the buyers' wish.
        "answered_every_s": round(seconds * len(places) / len(polls), 1) if polls else None,
        "admissions_seen": len(admitted_seen),
        "first_admission_seen_s": round(min(admitted_seen), 3) if admitted_seen else None,
        "granted": len(granted), "refused": len(refused), "errors": sum(reserve_errors.values()),
        "error_kinds": reserve_errors, "sold_out": sold_out is not None,
        "seconds_to_sell_out": round(sold_out - on_sale, 3) if sold_out else None,
        "granted_latency": percentiles(granted), "refused_latency": percentiles(refused),
        "reserve_latency": percentiles(granted + refused), "seconds": round(seconds, 3),
    }


async def sequential(spec: dict) -> dict:
    """One client, one request at a time: the latency of one request on an idle
    server. ``requests`` of them, or fewer if ``max_seconds`` runs out."""
    conn = Connection(spec["host"], spec["port"])
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + spec["max_seconds"]
    for n in range(spec["requests"]):
        if time.monotonic() >= deadline:
            break
        body = None
        if spec.get("ticket_type_id"):
            # A new buyer each time (one live hold per email and event), also across runs on one event.
            body = {"email": f"seq{n}-{secrets.token_hex(4)}@bench.test",
                    "items": [{"ticket_type_id": spec["ticket_type_id"], "quantity": 1}]}
        t0 = time.monotonic()
        response = await conn.request(spec.get("method", "GET"), spec["path"], json_body=body)
        latencies.append(time.monotonic() - t0)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    conn.close()
    expected = set(spec.get("expect", [200]))
    return {"requests": len(latencies), **percentiles(latencies),
            "errors": sum(n for s, n in statuses.items() if s not in expected),
            "statuses": {str(s): n for s, n in statuses.items()}}


SCENARIOS = {"rush": rush, "poll": poll, "sequential": sequential, "joins": joins, "onsale": onsale}


def main() -> None:
    spec = json.loads(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read())
    result = asyncio.run(SCENARIOS[spec["scenario"]](spec))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

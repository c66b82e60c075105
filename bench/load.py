"""The load generator: one asyncio process, a minimal HTTP/1.1 client.

Run as ``python -m bench.load '<json spec>'``; prints one JSON result on
stdout. A hand-rolled client on asyncio streams keeps the generator cheap
(it shares the two cores with the servers): keep-alive when the server
allows it, and a fresh connection per request when it closes (gunicorn's
sync workers do), so each simulated buyer or watcher owns its connection.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time

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
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
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
                key = f"http_{response.status}"
                errors[key] = errors.get(key, 0) + 1
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
    """``connections`` watchers poll ``path`` for ``seconds``, each sending back
    the ETag it last saw (as a browser does)."""
    host, port, path = spec["host"], spec["port"], spec["path"]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    start = time.monotonic()
    deadline = start + spec["seconds"]

    async def watcher() -> None:
        conn = Connection(host, port)
        etag = None
        while (t0 := time.monotonic()) < deadline:
            try:
                response = await conn.request("GET", path, headers={"If-None-Match": etag} if etag else None)
            except Exception as exc:  # noqa: BLE001
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                conn.close()
                continue
            latencies.append(time.monotonic() - t0)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            etag = response.headers.get("etag", etag)
        conn.close()

    await asyncio.gather(*(watcher() for _ in range(spec["connections"])))
    seconds = time.monotonic() - start
    ok = statuses.get(200, 0) + statuses.get(304, 0)
    bad = {f"http_{s}": n for s, n in statuses.items() if s not in (200, 304)}
    return {
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / seconds, 1),
        **percentiles(latencies),
        "share_304": round(statuses.get(304, 0) / ok, 3) if ok else None,
        "errors": sum(errors.values()) + sum(bad.values()),
        "error_kinds": {**errors, **bad},
        "seconds": round(seconds, 3),
        "client": "python",
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


SCENARIOS = {"rush": rush, "poll": poll, "sequential": sequential}


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = asyncio.run(SCENARIOS[spec["scenario"]](spec))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

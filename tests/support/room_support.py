"""Waiting-room helpers: an event whose on-sale is guarded by a room, the published draw written
out again, and the stock counted in plain SQL (so checks do not trust the code they check)."""
from __future__ import annotations

import hashlib
import hmac
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from own_services import OwnRedis
from shop_support import HX
from sqlalchemy import select, text
from testenv import T0
from werkzeug.serving import make_server

from eventsite import create_app
from eventsite.domain.models import Event, WaitingRoom
from eventsite.infra import room_store
from eventsite.infra.db import db
from eventsite.services import paying, waiting_room

ON_SALE = T0 + timedelta(minutes=30)  # the room opens 30 minutes before: at T0
ROOM_SETTINGS = {"enabled": True, "opens_minutes_before": 30, "admission_minutes": 5, "admissions_per_minute": 600,
                 "stock_multiple": 1}


def set_room(event_id: int, **settings) -> None:
    waiting_room.configure(db.session.get(Event, event_id), {**ROOM_SETTINGS, **settings})


@pytest.fixture
def room_event(ctx, frozen, make_event):
    """Event "onsale" with 3 GA tickets on sale from ON_SALE, its room open from T0 (now)."""
    def factory(capacity: int = 3, **settings):
        event_id, [ga] = make_event({"name": "GA", "capacity": capacity, "per_order_limit": 4,
                                     "sales_start": ON_SALE}, slug="onsale")
        set_room(event_id, **settings)
        return event_id, ga
    return factory


# --- the draw, as anyone can check it ----------------------------------------------------

def published_rule(seed: str, places) -> list[int]:
    """The rule the room publishes, written out again: HMAC-SHA256 keyed with the seed's ASCII text
    over the place number in decimal, hex digests ascending."""
    digest = {p: hmac.new(seed.encode("ascii"), str(p).encode("ascii"), hashlib.sha256).hexdigest() for p in places}
    return sorted(places, key=digest.__getitem__)


def queue_order(seed: str, early: int, people: int) -> list[int]:
    """The whole queue: the ``early`` places drawn, then later ones in arrival (number) order."""
    return published_rule(seed, range(1, early + 1)) + list(range(early + 1, people + 1))


def room_seed(event_id: int) -> str:
    """The seed as the database keeps it (a test may know the order before it is published)."""
    return db.session.scalar(select(WaitingRoom.seed).where(WaitingRoom.event_id == event_id))


# --- the stock, counted in SQL --------------------------------------------------------

# Per event at :at: tickets free (capacity - sold - live holds), tickets in live holds that lapse by
# :until (a submitted bank debit aside), and tickets unsold; the hold rule of DESIGN.md, again.
_STOCK = text("""
WITH live AS (
  SELECT oi.ticket_type_id, oi.quantity, o.expires_at, o.payment_pending
  FROM orders o JOIN order_items oi ON oi.order_id = o.id
  WHERE o.event_id = :event_id AND o.status IN ('reserved', 'payment_processing')
    AND (o.expires_at > :at OR (o.status = 'payment_processing' AND o.payment_pending AND o.pending_until > :at)))
SELECT COALESCE(SUM(tt.capacity - tt.sold), 0)
         - (SELECT COALESCE(SUM(quantity), 0) FROM live) AS free,
       (SELECT COALESCE(SUM(quantity), 0) FROM live
         WHERE expires_at <= :until AND NOT payment_pending) AS lapsing,
       COALESCE(SUM(tt.capacity - tt.sold), 0) AS unsold
FROM ticket_types tt WHERE tt.event_id = :event_id""")


def stock(event_id: int, at: datetime, admission_minutes: int) -> tuple[int, int, int]:
    """(free, lapsing within an admission's life, unsold) of the event at ``at``."""
    row = db.session.execute(_STOCK, {"event_id": event_id, "at": at,
                                      "until": at + timedelta(minutes=admission_minutes)}).one()
    return int(row.free), int(row.lapsing), int(row.unsold)


def pay(order_id: int) -> None:
    """The payment succeeds (as the webhook would apply it)."""
    assert paying.confirm_payment(order_id, reason="paid", actor="test")


def places_reading(slug: str, places, at: datetime | None = None) -> dict[int, str]:
    """{place number: phase} of ``places`` as their polls read them."""
    return {p.number: waiting_room.place(slug, p.token, at).phase for p in places}


def set_seed(event_id: int, seed: str) -> None:
    """Give the room a seed of the test's choosing (a model test must replay the same draw), before
    anyone joins; Redis forgets what was published, so the next poll publishes its hash."""
    room = db.session.scalars(select(WaitingRoom).where(WaitingRoom.event_id == event_id)).one()
    room.seed, room.seed_hash = seed, hashlib.sha256(seed.encode("ascii")).hexdigest()
    db.session.commit()
    room_store.clear()


# --- apps and a Redis of the test's own ---------------------------------------------------

@contextmanager
def shop_app(base, redis_url: str | None = None):
    """Another instance of the shop (``create_app``) on the test database, as a second web server
    or one on another Redis would be; the same secret, so places and admissions are valid on both."""
    shop = create_app({
        "TESTING": True, "SECRET_KEY": base.config["SECRET_KEY"], "RATELIMIT_ENABLED": False, "SERVER_NAME": None,
        "SQLALCHEMY_DATABASE_URI": base.config["SQLALCHEMY_DATABASE_URI"], "MAIL_PORT": base.config["MAIL_PORT"],
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 4, "max_overflow": 0, "pool_timeout": 60},
        "REDIS_URL": redis_url or base.config["REDIS_URL"]})
    try:
        yield shop
    finally:
        with shop.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def served(shop) -> Iterator[str]:
    """``shop`` served over real HTTP on a port of its own, in this process (so the clock is shared)."""
    server = make_server("127.0.0.1", 0, shop, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class KeptRedis(OwnRedis):
    """A redis-server of the test's own that writes every change to its append-only file in
    ``folder``: killed, it comes back with its data, as a production Redis with persistence does."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always"],
                                        stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)


@contextmanager
def kept_redis(folder: Path):
    server = KeptRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


EVENT = "/events/onsale"
ROOM = f"{EVENT}/room"


class Visitor:
    """One browser (its own cookie jar) visiting the room. Each request gets an app context of its
    own, as in production: ``room_event`` keeps one open for the test, and requests sharing it
    would share ``g`` (and so one browser's CSRF token, and its language). ``language`` is the one
    chosen in the switcher (its cookie)."""

    def __init__(self, app, language: str | None = None):
        self.app, self.http = app, app.test_client()
        if language:
            self.http.set_cookie("lang", language)

    def get(self, url: str, **kwargs):
        with self.app.app_context():
            return self.http.get(url, **kwargs)

    def post(self, url: str, data: dict, **kwargs):
        with self.app.app_context():
            return self.http.post(url, data=data, **kwargs)

    def csrf(self) -> str:
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', self.get(EVENT).text).group(1)

    def join(self, email: str = "", *, headers=None, csrf: bool = True):
        return self.post(ROOM, {"email": email, **({"csrf_token": self.csrf()} if csrf else {})},
                         headers=headers or {})

    def leave(self, *, csrf: bool = True):
        return self.post(f"{ROOM}/leave", {"csrf_token": self.csrf()} if csrf else {})

    def room(self) -> str:
        response = self.get(ROOM)
        assert response.status_code == 200, response.status_code
        return response.text

    def poll(self, etag: str | None = None):
        return self.get(f"{ROOM}/status", headers={**HX, **({"If-None-Match": etag} if etag else {})})

    def reserve(self, ga: int, quantity: int = 1, email: str = "ann@example.test", headers=None):
        return self.post(f"{EVENT}/reserve", {"csrf_token": self.csrf(), "email": email, f"qty-{ga}": str(quantity)},
                         headers=headers or {})

"""Rate limits, counted in Redis so every web process shares each client's budget.

One Limiter per app (kept in ``app.extensions``) rather than a module-level
one: Flask-Limiter keeps its settings on the instance, so a second app (a test
app with limits on, say) would otherwise switch limits on for the first.
It honours ``RATELIMIT_ENABLED``; if Redis is down it counts in memory, so
neither sales nor sign-ins stop.
"""
from __future__ import annotations

import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION = "limiter"
# One budget per client for placing holds, whichever door (shop form, API) they come through:
# a limit per door would let a client spend each budget in turn.
RESERVE_SCOPE = "reserve"
ROOM_JOIN_SCOPE = "room-join"  # one budget per client for taking waiting-room places, shop and API alike


def init_app(app: Flask) -> None:
    limiter = Limiter(get_remote_address, storage_uri=app.config["REDIS_URL"], key_prefix="eventsite",
                      in_memory_fallback_enabled=True, swallow_errors=True)
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter


def limiter(app: Flask | None = None) -> Limiter:
    return (app or current_app).extensions[EXTENSION]


def reservation_limit(app: Flask | None = None, *, deduct_when=None):
    """RESERVE_RATE_LIMIT per client, shared by every view it decorates or wraps (``with``).
    ``deduct_when(response)``: a decorated view spends the budget only on the answers it says."""
    return limiter(app).shared_limit(lambda: current_app.config["RESERVE_RATE_LIMIT"], scope=RESERVE_SCOPE,
                                     deduct_when=deduct_when)


def room_join_limit(app: Flask | None = None):
    """ROOM_JOIN_RATE_LIMIT per client address, shared by the room's form and the API."""
    return limiter(app).shared_limit(lambda: current_app.config["ROOM_JOIN_RATE_LIMIT"], scope=ROOM_JOIN_SCOPE)


def retry_after() -> int:
    """Seconds until the breached window resets (for a 429's Retry-After)."""
    current = limiter().current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))

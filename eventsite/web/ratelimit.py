"""Rate limits, counted in Redis so every web process shares each client's budget.

One Limiter per app (kept in ``app.extensions``) rather than a module-level
one: Flask-Limiter keeps its settings on the instance, so a second app (a test
app with limits on, say) would otherwise switch limits on for the first.
It honours ``RATELIMIT_ENABLED``; if Redis is down it counts in memory, so
neither sales nor sign-ins stop.
"""
from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION = "limiter"


def init_app(app: Flask) -> None:
    limiter = Limiter(get_remote_address, storage_uri=app.config["REDIS_URL"], key_prefix="eventsite",
                      in_memory_fallback_enabled=True, swallow_errors=True)
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter


def limiter(app: Flask | None = None) -> Limiter:
    return (app or current_app).extensions[EXTENSION]

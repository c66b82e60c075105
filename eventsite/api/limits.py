"""Rate limit on reservation creation, per client, counted in Redis.

One Limiter per app (kept in ``app.extensions``) rather than a module-level
one: Flask-Limiter keeps its settings on the instance, so a second app (a
test app with limits on, say) would otherwise switch limits on for the first.
"""
from __future__ import annotations

import os
import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION = "api_limiter"
LIMITED_ENDPOINT = "api.create_reservation"


def init_app(app: Flask) -> None:
    app.config.setdefault("API_RESERVE_RATE_LIMIT", os.environ.get("API_RESERVE_RATE_LIMIT", "10/minute"))
    limiter = Limiter(
        get_remote_address,
        storage_uri=app.config["REDIS_URL"],
        key_prefix="api",
        # Redis down must not stop sales: count in memory until it is back.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    view = app.view_functions[LIMITED_ENDPOINT]
    app.view_functions[LIMITED_ENDPOINT] = limiter.limit(lambda: current_app.config["API_RESERVE_RATE_LIMIT"])(view)


def retry_after() -> int:
    """Seconds until the breached window resets (for the 429's Retry-After)."""
    current = current_app.extensions[EXTENSION].current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))

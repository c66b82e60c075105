"""Rate limit on reservation creation, per client (the app's shared limiter)."""
from __future__ import annotations

import time

from flask import Flask, current_app

from ..ratelimit import limiter

LIMITED_ENDPOINT = "api.create_reservation"


def init_app(app: Flask) -> None:
    view = app.view_functions[LIMITED_ENDPOINT]
    limit = limiter(app).limit(lambda: current_app.config["API_RESERVE_RATE_LIMIT"])
    app.view_functions[LIMITED_ENDPOINT] = limit(view)


def retry_after() -> int:
    """Seconds until the breached window resets (for the 429's Retry-After)."""
    current = limiter().current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))

"""Rate limit on reservation creation, per client: the budget the shop's form spends too."""
from __future__ import annotations

from flask import Flask

from ..ratelimit import reservation_limit, retry_after

LIMITED_ENDPOINT = "api.create_reservation"
__all__ = ["init_app", "retry_after"]


def init_app(app: Flask) -> None:
    app.view_functions[LIMITED_ENDPOINT] = reservation_limit(app)(app.view_functions[LIMITED_ENDPOINT])

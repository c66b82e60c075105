"""Rate limit on reservation creation, per client: the budget the shop's form spends too."""
from __future__ import annotations

from flask import Flask

from ..ratelimit import reservation_limit, retry_after

LIMITED_ENDPOINT = "api.create_reservation"
__all__ = ["init_app", "retry_after"]


def _spends_budget(response) -> bool:
    """A request the API refused as malformed (422) placed nothing: a client fixing its
    request should not run out of reservations for it."""
    return response.status_code != 422


def init_app(app: Flask) -> None:
    limit = reservation_limit(app, deduct_when=_spends_budget)
    app.view_functions[LIMITED_ENDPOINT] = limit(app.view_functions[LIMITED_ENDPOINT])

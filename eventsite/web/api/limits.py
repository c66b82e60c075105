"""Rate limit on placing holds and joining waiting lists, per client: the budget the shop's forms spend too."""
from __future__ import annotations

from flask import Flask

from ..ratelimit import reservation_limit, retry_after

# Joining a line spends the reservation budget: otherwise a client turned away could
# fill a line with addresses as fast as it once tried to hold tickets.
LIMITED_ENDPOINTS = ("api.create_reservation", "api.join_waitlist")
__all__ = ["init_app", "retry_after"]


def _spends_budget(response) -> bool:
    """A request the API refused as malformed (422) placed nothing: a client fixing its
    request should not run out of reservations for it."""
    return response.status_code != 422


def init_app(app: Flask) -> None:
    limit = reservation_limit(app, deduct_when=_spends_budget)
    for endpoint in LIMITED_ENDPOINTS:
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])

"""Stand-ins for product endpoints this checkout does not have yet.

The bench drives the contract of the API and shop issues (reserve, JSON
availability, availability fragment). Where a route is missing, this app
adds a thin one over the real domain (``eventsite.inventory``), so the
design is measured through HTTP today; routes that exist are left alone and
measured as they are. Served as ``gunicorn 'bench.standin:create_app()'``.
TODO(lead): delete this module once the shop and API issues are merged
(the bench then serves ``app:create_app()`` alone).
"""
from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from eventsite import create_app as create_eventsite
from eventsite import inventory
from eventsite.extensions import csrf

RESERVE = "/api/v1/events/<slug>/reservations"
AVAILABILITY = "/api/v1/events/<slug>/availability"
FRAGMENT = "/events/<slug>/availability"


def missing_routes(app: Flask) -> list[str]:
    adapter = app.url_map.bind("bench.local")
    missing = []
    for rule, method in ((RESERVE, "POST"), (AVAILABILITY, "GET"), (FRAGMENT, "GET")):
        try:
            adapter.match(rule.replace("<slug>", "x"), method=method)
        except (NotFound, MethodNotAllowed):
            missing.append(rule)
    return missing


@csrf.exempt
def reserve(slug: str):
    data = request.get_json(silent=True) or {}
    quantities = {item.get("ticket_type_id"): item.get("quantity") for item in data.get("items", [])}
    order = inventory.reserve(inventory.published_event(slug), quantities, str(data.get("email", "")))
    return {"token": order.token, "status": order.status.value, "expires_at": order.expires_at.isoformat()}, 201


def _figures(slug: str) -> dict:
    event = inventory.published_event(slug)
    return {tt_id: f.available for tt_id, f in inventory.availability(event.id).items()}


def availability(slug: str):
    body = {"ticket_types": [{"id": tt_id, "available": left} for tt_id, left in _figures(slug).items()]}
    return _conditional(body)


def fragment(slug: str):
    rows = "".join(f"<li>{tt_id}: <strong>{left}</strong> left</li>" for tt_id, left in _figures(slug).items())
    return _conditional(f'<ul id="availability">{rows}</ul>')


def _conditional(body):
    response = current_app.make_response(body)
    response.add_etag()
    return response.make_conditional(request)


VIEWS = {RESERVE: (reserve, ["POST"]), AVAILABILITY: (availability, ["GET"]), FRAGMENT: (fragment, ["GET"])}


def create_app() -> Flask:
    app = create_eventsite()
    for rule in missing_routes(app):
        view, methods = VIEWS[rule]
        app.add_url_rule(rule, endpoint=f"bench_standin_{view.__name__}", view_func=view, methods=methods)
    return app

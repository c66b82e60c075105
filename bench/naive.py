"""The naive design of the original problem report, kept as a reference path.

Reserving locks the ticket type row, then counts every confirmed order and
every recent pending order of that type: no sold counter, no index bounded
by live holds, so each request costs the whole order history. Availability
counts the same way. It speaks the API's contract (same paths, bodies and
status codes) on the same tables, so the load generator drives it unchanged.

Served by gunicorn: ``gunicorn 'bench.naive:create_app()'`` with DATABASE_URL.
"""
from __future__ import annotations

import os
import secrets

from flask import Flask, abort, request
from sqlalchemy import create_engine, text

HOLD_MINUTES = 15

TAKEN = text("""
    SELECT coalesce(sum(oi.quantity), 0)
    FROM order_items oi JOIN orders o ON o.id = oi.order_id
    WHERE oi.ticket_type_id = :tt
      AND (o.status = 'confirmed'
           OR (o.status IN ('reserved', 'payment_processing')
               AND o.created_at > now() - make_interval(mins => :hold)))
""")


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["DATABASE_URL"]
    engine = create_engine(url, pool_size=1, max_overflow=0)

    def ticket_types(conn, slug: str) -> dict[int, int]:
        rows = conn.execute(text(
            "SELECT tt.id, tt.capacity FROM ticket_types tt JOIN events e ON e.id = tt.event_id"
            " WHERE e.slug = :slug AND e.published ORDER BY tt.id"), {"slug": slug}).all()
        if not rows:
            abort(404)
        return dict(rows)

    @app.get("/api/v1/events/<slug>/availability")
    @app.get("/events/<slug>/availability")
    def availability(slug: str):
        with engine.connect() as conn:
            figures = {tt: capacity - conn.execute(TAKEN, {"tt": tt, "hold": HOLD_MINUTES}).scalar_one()
                       for tt, capacity in ticket_types(conn, slug).items()}
        body = {"ticket_types": [{"id": tt, "available": max(0, left)} for tt, left in figures.items()]}
        response = app.make_response(body)
        response.add_etag()
        return response.make_conditional(request)

    @app.post("/api/v1/events/<slug>/reservations")
    def reserve(slug: str):
        data = request.get_json(silent=True) or {}
        wanted = {item["ticket_type_id"]: item["quantity"] for item in data.get("items", [])}
        if not wanted or "@" not in str(data.get("email", "")):
            return {"error": {"code": "invalid", "message": "email and items are required"}}, 422
        with engine.begin() as conn:
            if not set(wanted) <= set(ticket_types(conn, slug)):
                return {"error": {"code": "invalid", "message": "not a ticket type of this event"}}, 422
            for tt in sorted(wanted):
                capacity = conn.execute(text("SELECT capacity FROM ticket_types WHERE id = :tt FOR UPDATE"),
                                        {"tt": tt}).scalar_one()
                taken = conn.execute(TAKEN, {"tt": tt, "hold": HOLD_MINUTES}).scalar_one()
                if capacity - taken < wanted[tt]:  # leaving the block commits: the lock is released
                    return {"error": {"code": "sold_out", "message": "Sold out."}}, 409
            token = secrets.token_urlsafe(24)
            order = conn.execute(text(
                "INSERT INTO orders (event_id, token, email, currency, status, expires_at, payment_pending,"
                " created_at, updated_at) SELECT t.event_id, :token, :email, e.currency, 'reserved',"
                " now() + make_interval(mins => :hold), false, now(), now()"
                " FROM ticket_types t JOIN events e ON e.id = t.event_id WHERE t.id = :tt RETURNING id, expires_at"),
                {"token": token, "email": data["email"], "hold": HOLD_MINUTES, "tt": min(wanted)}).one()
            conn.execute(text(
                "INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price)"
                " SELECT :order_id, id, :qty, price FROM ticket_types WHERE id = :tt"),
                [{"order_id": order.id, "tt": tt, "qty": qty} for tt, qty in wanted.items()])
        return {"token": token, "status": "reserved", "expires_at": order.expires_at.isoformat()}, 201

    return app

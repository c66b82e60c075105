"""API routes: parse and check the input, call one domain function, answer JSON."""
from __future__ import annotations

import hashlib
import json

from flask import jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import availability_cache, inventory
from ..clock import now
from ..extensions import db
from ..models import HOLDING_STATUSES, Event, Order, OrderStatus
from ..payments.checkout import request_payment
from . import bp, openapi, organizer, representations, validation
from .errors import HoldExpired, NotReserved
from .tokens import authenticated_organizer

AVAILABILITY = "api-availability"  # availability_cache kind of the anonymous answer, by slug


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.DOCUMENT)


# --- public: events and availability ------------------------------------------

@bp.get("/events")
def list_events():
    at = now()
    events = db.session.scalars(
        select(Event).where(Event.published.is_(True)).order_by(Event.starts_at, Event.id)
        .options(selectinload(Event.ticket_types))
    )
    return {"events": [representations.event(ev, inventory.availability(ev.id, at=at), at) for ev in events]}


@bp.get("/events/<api_segment:slug>")
def get_event(slug: str):
    at = now()
    ev = inventory.published_event(slug)
    return representations.event(ev, inventory.availability(ev.id, at=at), at)


@bp.get("/events/<api_segment:slug>/availability")
def get_availability(slug: str):
    """Cheap to poll: a weak ETag over the figures lets unchanged answers be a
    bodiless 304, and the anonymous answer is shared through the availability
    cache, so such polls run no query."""
    at = now()
    viewer = validation.availability_query(request.args)
    if viewer is None and (shared := availability_cache.lookup_named(AVAILABILITY, slug, at)):
        return _conditional(shared[1])
    ev = inventory.published_event(slug)
    generation = availability_cache.generation(ev.id) if viewer is None else None
    figures = inventory.availability_for_display(ev.id, at=at, viewer_token=viewer)
    body = representations.availability(ev, figures, at, viewer=viewer is not None)
    answer = {"body": body, "etag": hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]}
    if viewer is None:
        availability_cache.store_named(AVAILABILITY, slug, ev.id, generation, at, inventory.shown_until(ev, at),
                                       answer)
    return _conditional(answer)


def _conditional(answer: dict):
    response = jsonify(answer["body"])
    response.set_etag(answer["etag"], weak=True)
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


# --- buyers: reservations -----------------------------------------------------

@bp.post("/events/<api_segment:slug>/reservations")
def create_reservation(slug: str):
    ev = inventory.event_for_reserving(slug)
    email, quantities = validation.reservation_request(request.get_json(force=True, silent=True))
    order = inventory.reserve_at(ev, quantities, email)
    return _reservation(order, 201, Location=url_for("api.get_reservation", token=order.token))


@bp.get("/reservations/<api_segment:token>")
def get_reservation(token: str):
    return _reservation(inventory.order_by_token(token), 200)


@bp.delete("/reservations/<api_segment:token>")
def release_reservation(token: str):
    order = inventory.order_by_token(token)
    if order.status in HOLDING_STATUSES and not inventory.holds_at(order, now()):
        raise HoldExpired("This hold has already expired; there is nothing to release.")
    return _reservation(inventory.release(order, actor="buyer:api"), 200)


@bp.post("/reservations/<api_segment:token>/checkout")
def start_checkout(token: str):
    """Payment sessions are created by a background job; the client polls the reservation."""
    order = inventory.order_by_token(token)
    if order.status != OrderStatus.RESERVED:
        raise NotReserved(f"This reservation is {order.status.value}; only a reserved one can go to payment.")
    if not inventory.holds_at(order, now()):
        raise HoldExpired("This hold has expired; reserve again.")
    request_payment(order)
    return _reservation(order, 202, Location=url_for("api.get_reservation", token=order.token),
                        **{"Retry-After": "1"})


def _reservation(order: Order, status: int, **headers):
    response = jsonify(representations.reservation(order, now()))
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers)
    return response, status


# --- organizers: bearer token, own events only --------------------------------

@bp.get("/organizer/events")
def organizer_events():
    at = now()
    return {"events": [
        {**representations.event(ev, inventory.availability(ev.id, at=at), at), "published": ev.published}
        for ev in authenticated_organizer().events
    ]}


@bp.get("/organizer/events/<api_segment:slug>/figures")
def organizer_figures(slug: str):
    ev = organizer.own_event(authenticated_organizer(), slug)
    at = now()
    figures = inventory.availability(ev.id, at=at)
    return {
        "slug": ev.slug,
        "at": at.isoformat(),
        "ticket_types": [{"id": tt.id, "name": tt.name, **representations.figures(figures[tt.id])}
                         for tt in ev.ticket_types],
        "orders_by_status": organizer.orders_by_status(ev),
        "revenue": organizer.revenue(ev),
    }


@bp.get("/organizer/events/<api_segment:slug>/orders")
def organizer_orders(slug: str):
    ev = organizer.own_event(authenticated_organizer(), slug)
    status, email, page = validation.orders_query(request.args)
    result = organizer.orders_page(ev, status=status, email=email, page=page)
    at = now()
    filters = {k: v for k, v in request.args.items() if k in ("status", "email")}
    return {
        "orders": [representations.organizer_order(o, at) for o in result.orders],
        "page": page, "per_page": organizer.ORDERS_PER_PAGE, "total": result.total,
        "next": url_for("api.organizer_orders", slug=slug, page=page + 1, **filters) if result.has_next else None,
    }

"""API routes: parse and check the input, call one domain function, answer JSON."""
from __future__ import annotations

import hashlib
import json

from flask import jsonify, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import inventory
from ..clock import now
from ..errors import NotFound
from ..extensions import db
from ..models import HOLDING_STATUSES, Event, Order, OrderItem, OrderStatus, TicketType
from . import bp, openapi, representations, validation
from .errors import HoldExpired, NotReserved
from .tokens import authenticated_organizer

ORDERS_PER_PAGE = 50


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
    """Cheap to poll: a weak ETag over the figures lets unchanged answers be a bodiless 304."""
    at = now()
    ev = inventory.published_event(slug)
    viewer = validation.availability_query(request.args)
    figures = inventory.availability(ev.id, at=at, viewer_token=viewer)
    body = representations.availability(ev, figures, at, viewer=viewer is not None)
    response = jsonify(body)
    response.set_etag(hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32], weak=True)
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


# --- buyers: reservations -----------------------------------------------------

@bp.post("/events/<api_segment:slug>/reservations")
def create_reservation(slug: str):
    ev = inventory.published_event(slug)
    email, quantities = validation.reservation_request(request.get_json(force=True, silent=True))
    order = inventory.reserve(ev, quantities, email)
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
    from .. import jobs  # the payments area's module, loaded only when a payment really starts

    jobs.enqueue_checkout(order.id)
    return _reservation(order, 202, Location=url_for("api.get_reservation", token=order.token),
                        **{"Retry-After": "1"})


def _reservation(order: Order, status: int, **headers):
    response = jsonify(representations.reservation(order, now()))
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers)
    return response, status


# --- organizers: bearer token, own events only --------------------------------

def _own_event(slug: str):
    organizer = authenticated_organizer()
    ev = db.session.scalar(select(Event).where(Event.slug == slug, Event.organizer_id == organizer.id))
    if ev is None:
        raise NotFound("There is no such event.")
    return ev


@bp.get("/organizer/events")
def organizer_events():
    organizer = authenticated_organizer()
    at = now()
    return {"events": [
        {**representations.event(ev, inventory.availability(ev.id, at=at), at), "published": ev.published}
        for ev in organizer.events
    ]}


@bp.get("/organizer/events/<api_segment:slug>/figures")
def organizer_figures(slug: str):
    ev = _own_event(slug)
    at = now()
    figures = inventory.availability(ev.id, at=at)
    by_status = dict(db.session.execute(
        select(Order.status, func.count()).where(Order.event_id == ev.id).group_by(Order.status)
    ).all())
    revenue = db.session.execute(
        select(TicketType.currency, func.sum(OrderItem.quantity * OrderItem.unit_price))
        .join(OrderItem.ticket_type).join(OrderItem.order)
        .where(Order.event_id == ev.id, Order.status == OrderStatus.CONFIRMED)
        .group_by(TicketType.currency)
    ).all()
    return {
        "slug": ev.slug,
        "at": at.isoformat(),
        "ticket_types": [{"id": tt.id, "name": tt.name, **representations.figures(figures[tt.id])}
                         for tt in ev.ticket_types],
        "orders_by_status": {s.value: by_status.get(s, 0) for s in OrderStatus},
        "revenue": {currency: int(amount) for currency, amount in revenue},
    }


@bp.get("/organizer/events/<api_segment:slug>/orders")
def organizer_orders(slug: str):
    ev = _own_event(slug)
    status, email, page = validation.orders_query(request.args)
    criteria = [Order.event_id == ev.id]
    if status:
        criteria.append(Order.status == status)
    if email:
        criteria.append(Order.email.icontains(email, autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(Order).where(*criteria))
    orders = db.session.scalars(
        select(Order).where(*criteria).order_by(Order.created_at.desc(), Order.id.desc())
        .options(selectinload(Order.items).selectinload(OrderItem.ticket_type))
        .limit(ORDERS_PER_PAGE).offset((page - 1) * ORDERS_PER_PAGE)
    )
    at = now()
    has_next = page * ORDERS_PER_PAGE < total
    return {
        "orders": [representations.organizer_order(o, at) for o in orders],
        "page": page, "per_page": ORDERS_PER_PAGE, "total": total,
        "next": url_for("api.organizer_orders", slug=slug, page=page + 1,
                        **{k: v for k, v in request.args.items() if k in ("status", "email")}) if has_next else None,
    }

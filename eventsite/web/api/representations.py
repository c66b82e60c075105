"""How events, availability and orders look in JSON (the shapes openapi.py describes)."""
from __future__ import annotations

from datetime import datetime

from flask import url_for

from ...domain.capacity import Availability
from ...domain.formatting import seconds_until
from ...domain.holds import effective_status, holds_at
from ...domain.models import Event, Order, OrderStatus, TicketType
from ...domain.renewals import offer_window
from ...domain.waiting_room import guarding, schedule
from ...readmodels.waitlist_places import Place
from ...services import waiting_room
from ...services.checkin import ScanResult

# Phases in which leaving the room still gives something up (DELETE changes nothing later on).
IN_ROOM = (waiting_room.BEFORE_DRAW, waiting_room.DRAWING, waiting_room.QUEUED, waiting_room.ADMITTED)


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def figures(f: Availability) -> dict:
    return {
        "capacity": f.capacity, "sold": f.sold, "held": f.held, "available": f.available,
        "next_release_at": iso(f.next_release_at),
    }


def line(tt: TicketType, f: Availability) -> dict:
    """The waiting list as the public sees it: whether one may join, and how many stand in it."""
    return {"waiting_list": tt.waitlist, "waiting": f.waiting_people, "promised": f.promised}


def ticket_type(tt: TicketType, f: Availability, at: datetime) -> dict:
    return {
        "id": tt.id, "name": tt.name, "price": tt.price, "currency": tt.currency,
        "per_order_limit": tt.per_order_limit, "sales_start": iso(tt.sales_start),
        "sales_end": iso(tt.sales_end), "on_sale": tt.on_sale(at), **figures(f), **line(tt, f),
    }


def event(ev: Event, availability: dict[int, Availability], at: datetime) -> dict:
    return {
        "slug": ev.slug, "title": ev.title, "description": ev.description, "venue": ev.venue,
        "timezone": ev.timezone, "starts_at": iso(ev.starts_at), "ends_at": iso(ev.ends_at),
        "hold_minutes": ev.hold_minutes, "currency": ev.currency,
        "ticket_types": [ticket_type(tt, availability[tt.id], at) for tt in ev.ticket_types],
        "links": {
            "self": _link("api.get_event", "GET", slug=ev.slug),
            "availability": _link("api.get_availability", "GET", slug=ev.slug),
            "reserve": _link("api.create_reservation", "POST", slug=ev.slug),
            "join_waitlist": _link("api.join_waitlist", "POST", slug=ev.slug),
        },
        "waiting_room": room(ev, at),
    }


def room(ev: Event, at: datetime) -> dict | None:
    """The event's waiting room, if it has one for its on-sale (open, coming or closed)."""
    when = schedule(ev.waiting_room, ev.ticket_types)
    if when is None:
        return None
    return {
        "opens_at": iso(when.opens_at), "on_sale": iso(when.on_sale),
        "admission_required": guarding(ev.waiting_room, ev.ticket_types, at),
        "closed": ev.waiting_room.closed_reason if ev.waiting_room.closed_at else None,
        "seed_hash": ev.waiting_room.seed_hash,
        "links": {**room_links(ev.slug), "draw": _link("api.get_room_draw", "GET", slug=ev.slug)},
    }


def room_links(slug: str) -> dict:
    """Where a buyer takes a place in the room: through the API, or on the shop's room page."""
    return {"room": _link("api.join_room", "POST", slug=slug), "room_page": _link("shop.room", "GET", slug=slug)}


def room_place(p: waiting_room.Place) -> dict:
    """A place in an event's waiting room, as its holder (whoever has the token) sees it."""
    return {
        "token": p.token, "number": p.number, "phase": p.phase, "event": {"slug": p.slug, "title": p.title},
        "ahead": p.ahead, "people": p.people, "tickets_left": p.tickets_left, "may_come_back": p.may_come_back,
        "out_of_reach": p.out_of_reach,
        "estimated_wait_seconds": round(p.wait.total_seconds()) if p.wait is not None else None,
        "on_sale": iso(p.on_sale), "seed_hash": p.seed_hash, "seed": p.seed, "closed_reason": p.closed_reason,
        "admission": p.admission, "admission_expires_at": iso(p.admission_until),
        "links": {
            "self": _link("api.get_room_place", "GET", slug=p.slug, token=p.token),
            "event": _link("api.get_event", "GET", slug=p.slug),
            "draw": _link("api.get_room_draw", "GET", slug=p.slug),
            # What cannot be done is not offered: reserving takes the admission, leaving a place in the room.
            **({"reserve": _link("api.create_reservation", "POST", slug=p.slug)}
               if p.phase == waiting_room.ADMITTED else {}),
            **({"leave": _link("api.leave_room", "DELETE", slug=p.slug, token=p.token)} if p.phase in IN_ROOM else {}),
        },
    }


def availability(ev: Event, figures_by_type: dict[int, Availability], at: datetime, viewer: bool) -> dict:
    """Deterministic for given figures (no clock in it), so its hash is a fair ETag."""
    types = []
    for tt in ev.ticket_types:
        f = figures_by_type[tt.id]
        row = {"id": tt.id, "on_sale": tt.on_sale(at), **figures(f), **line(tt, f)}
        if viewer:
            row |= {"held_by_you": f.held_by_you, "held_by_others": f.held_by_others}
        types.append(row)
    return {"slug": ev.slug, "ticket_types": types}


def reservation_status(order: Order, at: datetime) -> str:
    """The hold as a buyer sees it now: a lapsed hold is expired even before the sweep runs."""
    if holds_at(order, at):
        return "held"
    return {
        OrderStatus.CONFIRMED: "confirmed", OrderStatus.REFUNDED: "refunded", OrderStatus.CANCELLED: "released",
    }.get(effective_status(order, at), "expired")


def payment(order: Order, at: datetime) -> dict:
    status = effective_status(order, at)
    if status == OrderStatus.CONFIRMED:
        state = "paid"
    elif status == OrderStatus.REFUNDED:
        state = "refunded"
    elif order.payment_pending:
        state = "pending"
    elif status == OrderStatus.PAYMENT_PROCESSING:
        state = "awaiting_payment"
    elif order.payment_error:
        state = "failed"
    else:
        state = "none"
    return {"state": state, "checkout_url": order.checkout_url if state == "awaiting_payment" else None,
            "error": order.payment_error}


def order(o: Order, at: datetime) -> dict:
    """What buyer and organizer both see of an order."""
    held = holds_at(o, at)
    return {
        "status": effective_status(o, at).value,
        "reservation_status": reservation_status(o, at),
        "email": o.email,
        "created_at": iso(o.created_at),
        "expires_at": iso(o.expires_at),
        "seconds_left": seconds_until(o.expires_at, at) if held else 0,
        "items": [
            {"ticket_type_id": item.ticket_type_id, "name": item.ticket_type.name, "quantity": item.quantity,
             "unit_price": item.unit_price, "subtotal": item.quantity * item.unit_price}
            for item in o.items
        ],
        "total": o.total,
        "currency": o.currency,
        "payment": payment(o, at),
    }


def reservation(o: Order, at: datetime) -> dict:
    """The buyer's view, reachable only through its token."""
    renewable = offer_window(at, o)
    return {
        "token": o.token,
        "event": {"slug": o.event.slug, "title": o.event.title},
        **order(o, at),
        "renewals": o.renewals,
        "renewals_left": max(0, o.event.max_renewals - o.renewals),
        "renewable": renewable,
        "links": {
            "self": _link("api.get_reservation", "GET", token=o.token),
            # Offered only while the hold is live: a released, lapsed or paid order can do neither.
            **({"checkout": _link("api.start_checkout", "POST", token=o.token),
                "release": _link("api.release_reservation", "DELETE", token=o.token)} if holds_at(o, at) else {}),
            **({"renew": _link("api.renew_reservation", "POST", token=o.token)} if renewable else {}),
        },
    }


def place(p: Place) -> dict:
    """A place on a waiting list, as its holder (whoever has the token) sees it."""
    entry, offer = p.entry, p.offer
    own_hold = offer.quantity if offer and holds_at(offer, p.at) else 0
    return {
        "token": entry.token,
        "event": {"slug": entry.event.slug, "title": entry.event.title},
        "ticket_type_id": entry.ticket_type_id,
        "ticket_type_name": entry.ticket_type.name,
        "email": entry.email,
        "quantity": entry.quantity,
        "created_at": iso(entry.created_at),
        "state": p.state,
        "position": p.position,
        "people_waiting": p.figure.waiting_people,
        # The figures are the public's: a live offer is this holder's own hold, not another's.
        "held_by_others": max(0, p.figure.held - own_hold),
        "next_release_at": iso(p.figure.next_release_at),
        "offer": _offer(offer, p.at) if offer else None,
        "links": {
            "self": _link("api.get_place", "GET", token=entry.token),
            "page": _link("shop.waiting", "GET", token=entry.token),  # the buyer's waiting page
            **({"leave": _link("api.leave_waitlist", "DELETE", token=entry.token)}
               if p.state in ("waiting", "deferred") else {}),
        },
    }


def _offer(offer: Order, at: datetime) -> dict:
    """The hold a place was offered: a reservation like any other, paid through its token."""
    return {
        "token": offer.token, "quantity": offer.quantity, "reservation_status": reservation_status(offer, at),
        "expires_at": iso(offer.expires_at),
        "seconds_left": seconds_until(offer.expires_at, at) if holds_at(offer, at) else 0,
        "links": {"reservation": _link("api.get_reservation", "GET", token=offer.token),
                  "page": _link("shop.reservation", "GET", token=offer.token)},
    }


def organizer_order(o: Order, at: datetime) -> dict:
    anomalies = [{"kind": a.kind, "detail": a.detail, "session_id": a.session_id, "at": iso(a.at),
                  "refunded": a.refund_id is not None} for a in o.anomalies]
    return {"id": o.id, **order(o, at), "anomalies": anomalies}


def _link(endpoint: str, method: str, **values) -> dict:
    return {"href": url_for(endpoint, **values), "method": method}


def checkin(result: ScanResult) -> dict:
    """A scan's answer. Of a ticket that is not this event's, or not a ticket, nothing more is said."""
    return {
        "result": result.outcome.value, "ticket_type": result.ticket_type, "seat": result.seat,
        "order_id": result.order_id, "order_status": result.order_status.value if result.order_status else None,
        "checked_in_at": iso(result.checked_in_at), "device": result.device,
    }

"""API routes: parse and check the input, call one service or read model, answer JSON."""
from __future__ import annotations

import hashlib
import json

from flask import jsonify, request, url_for

from ...domain.clock import now
from ...domain.errors import AdmissionRequired, AlreadyReserved, TooManyRequests
from ...domain.hoarding import ALREADY_RESERVED
from ...domain.models import Order
from ...readmodels import availability, availability_cache, order_lists, waitlist_places
from ...readmodels.lookups import order_by_token, owned_event_by_slug, published_event, published_events
from ...readmodels.organizer_figures import event_figures
from ...services import checkin, paying, renewing, reserving, waitlist
from ..i18n import language_now
from . import bp, errors, openapi, representations, validation
from .tokens import authenticated_organizer

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
AVAILABILITY = "api-availability"  # availability_cache kind of the anonymous answer, by slug


@bp.before_request
def refuse_bodies_other_than_json():
    """A body is read only as JSON, and only when it says so: a form or text/plain post, which
    any web page can make a browser send to us cross-site, is a 415 and changes nothing."""
    if request.method in BODY_METHODS and has_body() and request.mimetype != "application/json":
        return errors.error_response(415, "unsupported_media_type",
                                     "Send the request body as JSON, with Content-Type: application/json.")
    return None


def has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.DOCUMENT)


# --- public: events and availability ------------------------------------------

@bp.get("/events")
def list_events():
    at = now()
    events = published_events()
    return {"events": [representations.event(ev, availability.figures(ev.id, at=at), at) for ev in events]}


@bp.get("/events/<api_segment:slug>")
def get_event(slug: str):
    at = now()
    ev = published_event(slug)
    return representations.event(ev, availability.figures(ev.id, at=at), at)


@bp.get("/events/<api_segment:slug>/availability")
def get_availability(slug: str):
    """Cheap to poll: a weak ETag over the figures lets unchanged answers be a
    bodiless 304, and the anonymous answer is shared through the availability
    cache, so such polls run no query."""
    at = now()
    viewer = validation.availability_query(request.args)
    if viewer is None and (shared := availability_cache.lookup_named(AVAILABILITY, slug, at)):
        return _conditional(shared[1])
    ev = published_event(slug)
    generation = availability_cache.generation(ev.id) if viewer is None else None
    figures = availability.for_display(ev.id, at=at, viewer_token=viewer)
    body = representations.availability(ev, figures, at, viewer=viewer is not None)
    answer = {"body": body, "etag": hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]}
    if viewer is None:
        availability_cache.store_named(AVAILABILITY, slug, ev.id, generation, at, availability.shown_until(ev, at),
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
    email, quantities, admission = validation.reservation_request(request.get_json(silent=True))
    try:
        order = reserving.reserve(slug, quantities, email, client_address=request.remote_addr, admission=admission,
                                  language=language_now())
    except AdmissionRequired as error:  # the room guards the event: say where its admissions are given
        return errors.error_response(error.http_status, error.code, error.message,
                                     links=representations.room_links(slug))
    except AlreadyReserved as error:
        # Not the hold's URL: its token is the key to it (release, pay), and a caller may merely know the email.
        message = (f"{ALREADY_RESERVED}; its link is in the email we sent when you reserved "
                   "(find my tickets sends it again).")
        return errors.error_response(error.http_status, error.code, message, {"email": message})
    except TooManyRequests as error:
        retry = errors.seconds_until(error.retry_at) if error.retry_at else None
        extra = {"retry_after": retry, "retry_at": error.retry_at.isoformat()} if retry else {}
        return errors.error_response(error.http_status, error.code, error.message,
                                     headers={"Retry-After": str(retry)} if retry else None, **extra)
    return _reservation(order, 201, Location=url_for("api.get_reservation", token=order.token))


@bp.get("/reservations/<api_segment:token>")
def get_reservation(token: str):
    return _reservation(order_by_token(token), 200)


@bp.delete("/reservations/<api_segment:token>")
def release_reservation(token: str):
    return _reservation(reserving.release(order_by_token(token), actor="buyer:api"), 200)


@bp.post("/reservations/<api_segment:token>/checkout")
def start_checkout(token: str):
    """Payment sessions are created by a background job; the client polls the reservation."""
    order = order_by_token(token)
    paying.request_payment(order)
    return _reservation(order, 202, Location=url_for("api.get_reservation", token=order.token),
                        **{"Retry-After": "1"})


@bp.post("/reservations/<api_segment:token>/renewal")
def renew_reservation(token: str):
    """More time in the hold's last minutes, unless someone waits for its tickets (409 then)."""
    return _reservation(renewing.renew(order_by_token(token), actor="buyer:api"), 200)


def _reservation(order: Order, status: int, **headers):
    return private(representations.reservation(order, now()), status, headers)


def private(body: dict, status: int, headers: dict):
    """An answer only the token's holder may see: no cache keeps it."""
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers)
    return response, status


# --- buyers: waiting lists ----------------------------------------------------

@bp.post("/events/<api_segment:slug>/waitlist")
def join_waitlist(slug: str):
    ticket_type_id, quantity, email = validation.waitlist_request(request.get_json(silent=True))
    entry = waitlist.join(slug, ticket_type_id, quantity, email, client_address=request.remote_addr,
                          language=language_now())
    return _place(entry.token, 201, Location=url_for("api.get_place", token=entry.token))


@bp.get("/waitlist/<api_segment:token>")
def get_place(token: str):
    return _place(token, 200)


@bp.delete("/waitlist/<api_segment:token>")
def leave_waitlist(token: str):
    """Leave the line (again: no change); a place that already has its offer is a 409."""
    return _place(waitlist.leave(token).token, 200)


def _place(token: str, status: int, **headers):
    return private(representations.place(waitlist_places.place(token)), status, headers)


# --- organizers: bearer token, own events only --------------------------------

@bp.get("/organizer/events")
def organizer_events():
    at = now()
    return {"events": [
        {**representations.event(ev, availability.figures(ev.id, at=at), at), "published": ev.published}
        for ev in authenticated_organizer().events
    ]}


@bp.get("/organizer/events/<api_segment:slug>/figures")
def organizer_figures(slug: str):
    ev = owned_event_by_slug(authenticated_organizer(), slug)
    figures = event_figures(ev)
    return {
        "slug": ev.slug,
        "at": figures.at.isoformat(),
        "ticket_types": [{"id": tt.id, "name": tt.name, **representations.figures(row)}
                         for tt, row in zip(ev.ticket_types, figures.types, strict=True)],
        "orders_by_status": figures.orders_by_status,
        "revenue": {currency: amount for currency, amount in figures.total.revenue.items() if amount},
    }


@bp.get("/organizer/events/<api_segment:slug>/orders")
def organizer_orders(slug: str):
    ev = owned_event_by_slug(authenticated_organizer(), slug)
    status, email, page = validation.orders_query(request.args)
    result = order_lists.orders_page(ev.id, order_lists.OrderFilter(status=status, email=email or ""), page,
                                     clamp=False)
    at = now()
    filters = {k: v for k, v in request.args.items() if k in ("status", "email")}
    return {
        "orders": [representations.organizer_order(o, at) for o in result.orders],
        "page": page, "per_page": order_lists.PER_PAGE, "total": result.total,
        "next": url_for("api.organizer_orders", slug=slug, page=page + 1, **filters) if result.has_next else None,
    }


@bp.post("/events/<api_segment:slug>/checkins")
def create_checkin(slug: str):
    """A scan at the door. Every outcome (valid, already, forged, ...) is a 200 with its
    ``result``; only bad input (422), a missing token (401) or another's event (404) is not."""
    organizer = authenticated_organizer()
    ev = owned_event_by_slug(organizer, slug)
    code, device = validation.checkin_request(request.get_json(silent=True))
    result = checkin.check_in(ev, code, device=device, by=f"api:{organizer.email}")
    response = jsonify(representations.checkin(result))
    response.headers["Cache-Control"] = "no-store"
    return response

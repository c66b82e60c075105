"""API routes of an event's waiting room: take a place, read it (poll this), leave it, check the draw.

A place is reached only through its token, as a reservation is. Joining spends the per-client room
budget the shop's form spends too (``room_join_limit``); a malformed request (422) spends nothing.
"""
from __future__ import annotations

import hashlib

from flask import jsonify, request, url_for

from ...services import waiting_room
from ..ratelimit import room_join_limit
from . import bp, representations, validation
from .views import has_body, private


@bp.post("/events/<api_segment:slug>/room")
def join_room(slug: str):
    """A new place at the back. An email that has a place already is a 409: the place is the key to
    an admission, so it is never handed to whoever merely knows the address."""
    email = validation.room_join_request(request.get_json(silent=True) if has_body() else {})
    with room_join_limit():  # over it: RateLimitExceeded, the API's 429 with Retry-After
        place = waiting_room.join(slug, email)
    return _room_place(place, 201, Location=url_for("api.get_room_place", slug=slug, token=place.token))


@bp.get("/events/<api_segment:slug>/room/places/<api_segment:token>")
def get_room_place(slug: str, token: str):
    """Polled: a weak ETag over the answer makes an unchanged poll a bodiless 304."""
    response, _status = _room_place(waiting_room.place(slug, token), 200)
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32], weak=True)
    return response.make_conditional(request)


@bp.delete("/events/<api_segment:slug>/room/places/<api_segment:token>")
def leave_room(slug: str, token: str):
    """Give the place up (again: no change); once admitted, a 409 (the admission counts until used or lapsed)."""
    return _room_place(waiting_room.leave(slug, token), 200)


@bp.get("/events/<api_segment:slug>/room/draw")
def get_room_draw(slug: str):
    """Everything needed to check the draw; the seed only once the on-sale instant has passed."""
    response = jsonify(waiting_room.published_draw(slug))
    response.headers["Cache-Control"] = "no-cache"
    return response


def _room_place(place: waiting_room.Place, status: int, **headers):
    return private(representations.room_place(place), status, headers)

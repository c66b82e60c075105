"""The waiting room's pages: joining, the room (your place, polled), leaving (asked first), the
waiting list for a place that will not get in, the published draw.

A browser's place is kept in its signed session cookie (one place per browser and event); its
admission too, once given, so the event page shows the reserve form and reserving sends it. The
poll reads Redis only (and, once a second across all processes, runs the room's tick).
"""
from __future__ import annotations

import hashlib

from flask import jsonify, make_response, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded

from ...domain.clock import now
from ...domain.errors import N_, DomainError, TooManyRequests
from ...domain.waiting_room import guarding, schedule
from ...readmodels.lookups import published_event
from ...services import waiting_room
from ..i18n import language_now
from ..ratelimit import retry_after, room_join_limit
from . import bp
from .views import ADMISSIONS_KEY, HOLDS_KEY, ROOM_PLACES_KEY, go_to, keep_for_event

# Phases in which the room page keeps polling.
LIVE_PHASES = (waiting_room.BEFORE_DRAW, waiting_room.DRAWING, waiting_room.QUEUED, waiting_room.PAUSED)
# Phases of a place still waiting: it may be given up, or offered the waiting list (an admitted
# place is on the event page, reserving).
LEAVABLE_PHASES = (waiting_room.BEFORE_DRAW, waiting_room.DRAWING, waiting_room.QUEUED)


@bp.context_processor
def _room_schedule():
    return {"room_schedule": lambda event: schedule(event.waiting_room, event.ticket_types)}


def place_token(slug: str) -> str | None:
    """This browser's place in ``slug``'s room, if it took one."""
    return session.get(ROOM_PLACES_KEY, {}).get(slug)


@bp.get("/events/<slug>/room")
def room(slug: str):
    return _room_page(slug)


@bp.post("/events/<slug>/room")
def join_room(slug: str):
    try:
        with room_join_limit():
            place = waiting_room.join(slug, request.form.get("email", "").strip() or None,
                                      token=place_token(slug))
    except RateLimitExceeded:
        seconds = retry_after()
        return _refused(slug, TooManyRequests(N_("Too many places taken from your connection; try again in "
                                                 "%(seconds)s seconds."), seconds=seconds), retry=seconds)
    except DomainError as error:
        return _refused(slug, error)
    keep_for_event(ROOM_PLACES_KEY, slug, place.token)
    return go_to(url_for("shop.room", slug=slug))


@bp.get("/events/<slug>/room/status")
def room_status(slug: str):
    """The polled part. Unchanged: 304. Admitted: the admission goes into the session and the
    browser to the event page, where the reserve form is. No place (any more): the room page."""
    at = now()
    place = _current_place(slug, at)
    if place is None or _admit(slug, place):
        return go_to(url_for("shop.event" if place else "shop.room", slug=slug))
    context = _status_context(place, at)
    if request.if_none_match.contains_weak(context["etag"]):
        response = make_response("", 304)
    else:
        response = make_response(render_template("shop/_room_status.html", place=place, at=at, slug=slug,
                                                 **context))
    response.set_etag(context["etag"], weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/events/<slug>/room/leave")
def confirm_leave_room(slug: str):
    """Leaving gives up the place for good (joining again goes to the back), so the room's link
    asks first (no script needed), as the waiting list's does."""
    return _room_page(slug, step="leave")


@bp.post("/events/<slug>/room/leave")
def leave_room(slug: str):
    token = place_token(slug)
    if token:
        try:
            waiting_room.leave(slug, token)
        except DomainError as error:
            return _refused(slug, error)
    return go_to(url_for("shop.room", slug=slug))


@bp.get("/events/<slug>/room/waitlist")
def room_waitlist(slug: str):
    """The waiting list offered to a place that will not get in: its form posts to the event's
    "Join the waiting list" (kept off the poll, which must cost no SQL)."""
    return _room_page(slug, step="waitlist")


@bp.get("/events/<slug>/room/draw")
def room_draw(slug: str):
    """Everything needed to check the draw (the seed only once the on-sale has passed)."""
    response = jsonify(waiting_room.published_draw(slug))
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- helpers -----------------------------------------------------------------

def _room_page(slug: str, *, step: str | None = None):
    """The room with this browser's place (or the join form); a step ("leave", "waitlist") only
    for a place still waiting. Once the room no longer guards the event, or this place is
    admitted, the event page instead."""
    event = published_event(slug)
    at = now()
    if not guarding(event.waiting_room, event.ticket_types, at):
        return redirect(url_for("shop.event", slug=slug), 303)
    place = _current_place(slug, at)
    if _admit(slug, place):
        return redirect(url_for("shop.event", slug=slug), 303)
    if step and (place is None or place.phase not in LEAVABLE_PHASES):
        return redirect(url_for("shop.room", slug=slug), 303)
    return render_template("shop/room.html", event=event, place=place, at=at, step=step,
                           **_status_context(place, at))


def _admit(slug: str, place) -> bool:
    """An admitted place: its admission goes into the session, for the event page's form."""
    if place is None or place.phase != waiting_room.ADMITTED:
        return False
    keep_for_event(ADMISSIONS_KEY, slug, place.admission)
    return True


def _current_place(slug: str, at):
    token = place_token(slug)
    if not token:
        return None
    try:
        return waiting_room.place(slug, token, at)
    except DomainError:  # a token of a room that is gone: join again
        return None


def _status_context(place, at) -> dict:
    """Whether the place polls, its ETag (what the live part shows and in which language, without the instant: its
    countdown ticks in the browser), and this browser's hold on the event, once it placed one."""
    if place is None:
        return {"live": False, "etag": None, "hold_token": None}
    shown = (language_now(), place.phase, place.people, place.ahead, place.tickets_left, place.may_come_back,
             place.out_of_reach, place.wait and round(place.wait.total_seconds() / 30), place.seed is not None)
    return {"live": place.phase in LIVE_PHASES, "etag": hashlib.sha256(repr(shown).encode()).hexdigest()[:20],
            "hold_token": session.get(HOLDS_KEY, {}).get(str(place.event_id))}


def _refused(slug: str, error: DomainError, *, retry: int | None = None):
    """The room page again, with the message (and what was typed), answered with the error's status."""
    at = now()
    event = published_event(slug)
    place = _current_place(slug, at)
    response = make_response(render_template("shop/room.html", event=event, place=place, at=at, error=error,
                                             email=request.form.get("email", ""), **_status_context(place, at)),
                             error.http_status)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response

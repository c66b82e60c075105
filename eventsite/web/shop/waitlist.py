"""The waiting list's pages: joining from the event page, the waiting page, leaving.

The entry's token in the URL is the key to a place in line (like an order's token to
its hold), so these pages are neither cached nor told to the next site (web.headers).
"""
from __future__ import annotations

import hashlib

from flask import make_response, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded

from ...domain.errors import N_, Conflict, DomainError, InvalidRequest
from ...domain.waitlist import OPEN, offers
from ...readmodels import waitlist_places
from ...readmodels.waitlist_places import Place
from ...services import waitlist
from ..i18n import language_now
from ..ratelimit import reservation_limit
from . import bp
from .views import go_to, reserve_refused, too_many_attempts

# While these last, the waiting page polls; the others are final. A deferred place polls to see
# itself join the line when the waiting room sells out.
LIVE_STATES = ("waiting", "deferred", "offered")
# A place that can be left: in line, or deferred by a waiting room.
LEAVABLE_STATES = ("waiting", "deferred")
# How often the head of the line polls once tickets came back for it: its offer is a job away,
# and it should see it within a second of being made, not a whole ordinary poll later.
IMMINENT_POLL_SECONDS = 1


@bp.post("/events/<slug>/waitlist")
def join_waitlist(slug: str):
    """Refusals answer like the reserve form's: the message, the figures refreshed, 4xx. The waiting
    room's page posts here too (while the room guards the sale, the place is deferred)."""
    try:
        with reservation_limit():  # joining competes for tickets too: the same budget per client as reserving
            entry = waitlist.join(slug, _whole_number("ticket_type_id", N_("Choose a ticket type.")),
                                  _whole_number("quantity", N_("Choose a whole number of tickets.")),
                                  request.form.get("email", "").strip(), client_address=request.remote_addr,
                                  language=language_now())
    except RateLimitExceeded:
        return reserve_refused(slug, too_many_attempts())
    except DomainError as error:
        return reserve_refused(slug, error)
    return go_to(url_for("shop.waiting", token=entry.token))


@bp.get("/w/<token>")
def waiting(token: str):
    place = waitlist_places.place(token)
    return render_template("shop/waiting.html", **_context(place))


@bp.get("/w/<token>/status")
def waiting_status(token: str):
    """Polled while the place waits or its offer is open. Its ETag covers what the
    live part shows, so an unchanged poll is a 304 and the page stays as it is."""
    context = _context(waitlist_places.place(token))
    if request.if_none_match.contains_weak(context["etag"]):
        response = make_response("", 304)
    else:
        response = make_response(render_template("shop/_waiting_status.html", **context))
    response.set_etag(context["etag"], weak=True)
    return response


@bp.get("/w/<token>/leave")
def confirm_leave_waitlist(token: str):
    """Leaving gives up the place for good, so the waiting page's link asks first (no script needed)."""
    place = waitlist_places.place(token)
    if place.state not in LEAVABLE_STATES:
        return redirect(url_for("shop.waiting", token=token), 303)
    return render_template("shop/waiting.html", confirm_leave=True, **_context(place))


@bp.post("/w/<token>/leave")
def leave_waitlist(token: str):
    try:
        waitlist.leave(token)
    except Conflict as error:  # an offer came meanwhile: the waiting page shows it
        return render_template("shop/waiting.html", error=error, **_context(waitlist_places.place(token))), 409
    return redirect(url_for("shop.waiting", token=token), 303)


# --- helpers -----------------------------------------------------------------

def _context(place: Place) -> dict:
    entry = place.entry
    return {"place": place, "entry": entry, "event": entry.event, "offer": place.offer, "at": place.at,
            "live": place.state in LIVE_STATES, "etag": _fingerprint(place),
            "imminent_poll": IMMINENT_POLL_SECONDS if _offer_imminent(place) else None}


def _offer_imminent(place: Place) -> bool:
    """Tickets free for the line would be offered to this place first (the line's own rule)."""
    entry = place.entry
    return (place.position == 1 and entry.ticket_type.waitlist == OPEN
            and bool(offers([entry], place.figure.free, partial=entry.event.waitlist_partial_offers)))


def _fingerprint(place: Place) -> str:
    """What the live part shows, in which language, without the instant (its countdowns tick in the browser)."""
    offer = place.offer
    shown = (language_now(), place.state, place.position, place.figure, place.entry.ticket_type.waitlist,
             offer and (offer.token, offer.quantity, offer.expires_at))
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:24]


def _whole_number(field: str, message: str) -> int:
    try:
        return int(request.form.get(field, "").strip())
    except ValueError:
        raise InvalidRequest(message, field=field) from None

"""Buyer routes: parse the request, call one service or read model, render.

The reservation token in the URL is what grants access to a hold; it is also
kept in the session so the event page can show the buyer their own holds.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, make_response, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import generate_csrf

from ...domain.clock import now
from ...domain.errors import N_, AdmissionRequired, Conflict, DomainError, InvalidRequest, TooManyRequests
from ...domain.formatting import seconds_until
from ...domain.holds import holds_at
from ...domain.models import Event, Order, OrderStatus
from ...domain.waiting_room import guarding, read_admission
from ...readmodels import availability_cache
from ...readmodels.availability import shown_until
from ...readmodels.lookups import order_by_token, published_event, published_events
from ...services import reserving, waiting_room
from ..extensions import htmx
from ..i18n import language_now
from ..ratelimit import reservation_limit, retry_after
from . import bp, display
from .display import fingerprint, on_sale_status, ticket_lines

EVENT_PAGE = "event-page"  # availability_cache kind of a new visitor's event page, by slug and language
CSRF_PLACEHOLDER = "\x00csrf\x00"  # where the shared event page gets each visitor's own CSRF token
FRAGMENT = "fragment"  # availability_cache kind of the anonymous fragment, by slug
HOLDS_KEY = "holds"  # {event id: reservation token} for this browser
ADMISSIONS_KEY = "room_admissions"  # {slug: admission token} given to this browser by the event's waiting room
ROOM_PLACES_KEY = "room_places"  # {slug: place token} this browser took in the event's waiting room
# Once payment has started, the payment pages own the order.
PAYMENT_STATUSES = (OrderStatus.PAYMENT_PROCESSING, OrderStatus.CONFIRMED, OrderStatus.REFUNDED)


@bp.context_processor
def _poll_interval():
    return {"poll_seconds": current_app.config["AVAILABILITY_POLL_SECONDS"]}


@bp.get("/")
def index():
    at = now()
    events = published_events(upcoming_at=at)
    statuses = [(e, on_sale_status(e, at)) for e in events]
    return render_template("shop/index.html",
                           events=[(e, status, display.ON_SALE_LABELS[status]) for e, status in statuses])


@bp.get("/events/<slug>")
def event(slug: str):
    """A new visitor's page (no hold here, nothing asked in the URL) is rendered once per change and
    language and shared through the availability cache, like the fragment; only its CSRF token is
    the visitor's own, put in where the shared rendering holds a placeholder."""
    shared_as, plain = f"{EVENT_PAGE}.{language_now()}", not request.args and not htmx
    if plain and (shared := availability_cache.lookup_named(shared_as, slug, now())):
        event_id, html = shared
        if _viewer_token(event_id) is None:
            return html.replace(CSRF_PLACEHOLDER, generate_csrf())
    event = published_event(slug)
    if not plain:
        return _event_page(event)
    generation = availability_cache.generation(event.id)
    page, at, shareable = _render_event(event, csrf=CSRF_PLACEHOLDER)
    if shareable and generate_csrf() not in page:  # never share a page holding someone's own token
        availability_cache.store_named(shared_as, slug, event.id, generation, at, shown_until(event, at), page)
    return page.replace(CSRF_PLACEHOLDER, generate_csrf())


@bp.get("/events/<slug>/availability")
def availability(slug: str):
    """The polled fragment. Its ETag covers the figures shown, so an unchanged
    poll is answered 304 without rendering (the page keeps the buyer's picks).
    What anonymous watchers see is rendered once per change and shared through
    the availability cache, so their polls run no query and no template."""
    at = now()
    picked = any(quantity for quantity in _quantities(request.args, strict=False).values())
    shared_as = f"{FRAGMENT}.{language_now()}"  # one rendering per language
    shared = availability_cache.lookup_named(shared_as, slug, at)
    if shared and _viewer_token(shared[0]) is None and (not picked or _unchanged(shared[1]["etag"])):
        return _fragment_response(shared[1]["etag"], shared[1]["html"])
    event = published_event(slug)
    generation = availability_cache.generation(event.id)
    token = _viewer_token(event.id)
    lines = ticket_lines(event, at=at, viewer_token=token, selected=_quantities(request.args, strict=False))
    etag = fingerprint(lines)
    shareable = token is None and not picked and display.shareable(lines)
    html = None
    if shareable or not _unchanged(etag):
        html = render_template("shop/_availability.html", event=event, lines=lines, at=at, etag=etag, announce=True)
    if shareable:
        availability_cache.store_named(shared_as, slug, event.id, generation, at,
                                       shown_until(event, at), {"etag": etag, "html": html})
    return _fragment_response(etag, html)


def _unchanged(etag: str) -> bool:
    return request.if_none_match.contains_weak(etag)


def _fragment_response(etag: str, html: str | None):
    response = make_response("", 304) if _unchanged(etag) or html is None else make_response(html)
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response


@bp.post("/events/<slug>/reserve")
def reserve(slug: str):
    try:
        with reservation_limit():  # the same budget per client as the API's reservations
            order = reserving.reserve(slug, _quantities(request.form, strict=True),
                                      request.form.get("email", "").strip(), client_address=request.remote_addr,
                                      admission=session.get(ADMISSIONS_KEY, {}).get(slug), language=language_now())
    except RateLimitExceeded:
        return reserve_refused(slug, too_many_attempts())
    except DomainError as error:
        return reserve_refused(slug, error)
    _remember(order)
    if order.room_place is not None:  # the admission placed its one hold: the event page shows the room again
        session[ADMISSIONS_KEY] = {k: v for k, v in session.get(ADMISSIONS_KEY, {}).items() if k != slug}
    return go_to(url_for("shop.reservation", token=order.token))


@bp.get("/r/<token>")
def reservation(token: str):
    order = order_by_token(token)
    if order.status in PAYMENT_STATUSES:
        return redirect(_payment_page(order), 303)
    _remember(order)
    return render_template("shop/reservation.html", **reservation_context(order))


@bp.get("/r/<token>/status")
def reservation_status(token: str):
    """Polled while the hold is live: re-syncs the countdown, or swaps the whole
    reservation for the expired/released panel once the server says it ended."""
    order = order_by_token(token)
    if order.status in PAYMENT_STATUSES:
        return go_to(_payment_page(order))
    context = reservation_context(order)
    if context["live"]:
        return render_template("shop/_hold_status.html", **context)
    response = make_response(render_template("shop/_reservation.html", **context))
    response.headers.update({"HX-Retarget": "#reservation", "HX-Reswap": "outerHTML"})
    return response


@bp.get("/r/<token>/release")
def confirm_release(token: str):
    """Releasing gives the tickets up for good, so the button asks first (no script needed;
    with htmx only the step, in place of the reservation's actions)."""
    order = order_by_token(token)
    context = reservation_context(order)
    if order.status in PAYMENT_STATUSES or not context["live"]:  # nothing left to release: show what it became
        return go_to(url_for("shop.reservation", token=token))
    if htmx:
        return render_template("shop/_release_confirm.html", **context)
    return render_template("shop/reservation.html", confirm_release=True, **context)


@bp.post("/r/<token>/release")
def release(token: str):
    order = order_by_token(token)
    try:
        order = reserving.release(order, actor=f"buyer:{order.email}")
    except Conflict:
        pass  # it lapsed (or was paid) meanwhile: the reservation page shows what it became
    if htmx and order.status not in PAYMENT_STATUSES:
        return render_template("shop/_reservation.html", **reservation_context(order))
    return go_to(url_for("shop.reservation", token=token))


# --- helpers -----------------------------------------------------------------

def reserve_refused(slug: str, error: DomainError):
    at = now()
    if htmx:
        response = make_response(render_template("shop/_reserve_error.html", error=error, at=at,
                                                 own_hold=_viewer_token_of(error)), error.http_status)
        response.headers["HX-Trigger"] = "availability-stale"  # show the figures that refused it
    else:
        response = make_response(*_event_page(published_event(slug), error=error, status=error.http_status))
    retry_at = getattr(error, "retry_at", None)
    if error.http_status == 429 and retry_at is not None:
        response.headers["Retry-After"] = str(max(1, seconds_until(retry_at, at)))
    return response


def too_many_attempts() -> TooManyRequests:
    seconds = retry_after()
    return TooManyRequests(N_("Too many reservation attempts from your connection; try again in %(seconds)s seconds."),
                           retry_at=now() + timedelta(seconds=seconds), seconds=seconds)


def _viewer_token_of(error: DomainError) -> str | None:
    """The existing hold's token, only if this browser placed it: the token is the key to the hold
    (see it, release it), so someone who merely types the buyer's email must not be handed it."""
    token = getattr(error, "token", None)
    return token if token and token in session.get(HOLDS_KEY, {}).values() else None


def _payment_page(order: Order) -> str:
    """A checkout the buyer has not finished goes (back) to paying; otherwise the outcome."""
    if order.status == OrderStatus.PAYMENT_PROCESSING and not order.payment_pending:
        return url_for("payments.preparing", token=order.token)
    return url_for("payments.status", token=order.token)


def _event_page(event: Event, *, error: DomainError | None = None, status: int = 200):
    return _render_event(event, error=error)[0], status


def _render_event(event: Event, *, error: DomainError | None = None,
                  csrf: str | None = None) -> tuple[str, datetime, bool]:
    """The event page (with ``csrf`` written where the visitor's token goes, if given), the instant it
    shows, and whether it may serve every new visitor (no hold, no room, no countdown in it)."""
    at = now()
    token = _viewer_token(event.id)
    selected = _quantities(request.form, strict=False) if error else {}
    lines = ticket_lines(event, at=at, viewer_token=token, selected=selected)
    holds_some = any(line.held_by_you for line in lines)
    room = _room_context(event, at)
    page = render_template(
        "shop/event.html", event=event, lines=lines, at=at, etag=fingerprint(lines), error=error,
        email=request.form.get("email", ""), hold_token=token if holds_some else None,
        own_hold=_viewer_token_of(error) if error else None, **room,
        **({"csrf_token": lambda: csrf} if csrf else {}),
    )
    return page, at, token is None and room["room"] is None and display.shareable(lines)


def _room_context(event: Event, at) -> dict:
    """While the waiting room guards the event: the room instead of the form, unless this browser
    was admitted (then the form, and until when the admission lasts)."""
    if not guarding(event.waiting_room, event.ticket_types, at):
        return {"room": None}
    try:
        admitted = read_admission(waiting_room.key(), session.get(ADMISSIONS_KEY, {}).get(event.slug), event.id, at)
    except AdmissionRequired:
        admitted = None
    return {"room": event.waiting_room, "admitted": admitted,
            "room_place": session.get(ROOM_PLACES_KEY, {}).get(event.slug)}


def reservation_context(order: Order) -> dict:
    at = now()
    live = order.status == OrderStatus.RESERVED and holds_at(order, at)
    context = {"order": order, "event": order.event, "at": at, "live": live}
    if not live:  # what the buyer could get instead, for "try again"
        wanted = {item.ticket_type_id for item in order.items}
        lines = ticket_lines(order.event, at=at, viewer_token=None)
        context["lines"] = [line for line in lines if line.id in wanted]
    return context


def _quantities(values, *, strict: bool) -> dict[int, int]:
    """{ticket type id: quantity} from ``qty-<id>`` fields. Strict parsing refuses
    junk; lenient parsing (for re-rendering pickers) skips it."""
    quantities = {}
    for key, value in values.items():
        if not key.startswith("qty-"):
            continue
        try:
            quantities[int(key.removeprefix("qty-"))] = int(value.strip() or 0)
        except ValueError:
            if strict:
                raise InvalidRequest(N_("Choose a whole number of tickets."), field="items") from None
    return quantities


def _viewer_token(event_id: int) -> str | None:
    return session.get(HOLDS_KEY, {}).get(str(event_id))


def _remember(order: Order) -> None:
    keep_for_event(HOLDS_KEY, str(order.event_id), order.token)


def keep_for_event(key: str, event_key: str, value: str) -> None:
    """Remember ``value`` for one event in the session's ``key`` map."""
    kept = session.get(key, {})
    if kept.get(event_key) != value:  # only then does the cookie need rewriting
        session[key] = {**kept, event_key: value}


def go_to(location: str):
    """htmx follows HX-Redirect with a full page load; plain forms get a 303."""
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, 303)

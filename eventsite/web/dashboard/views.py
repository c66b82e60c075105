"""Organizer routes: parse input, call one service or read model, render.

Every route needs a signed-in organizer (``require_login``), and every id in a
URL is looked up through the organizer's own events, so another organizer's
event, ticket type or order answers 404 exactly like a missing one.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from babel.numbers import format_decimal
from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, logout_user
from wtforms import SelectChoice

from ...domain.errors import N_, DomainError, InvalidRequest
from ...domain.models import OrderStatus
from ...domain.rules import normalize_email
from ...domain.waitlist import CLOSED
from ...readmodels import chart, checkins, exports, lookups, order_lists, organizer_figures, room_figures, waitlists
from ...services import accounts, catalog, waiting_room, waitlist
from ...services import checkin as door
from ...services import organizer_actions as actions
from ..extensions import htmx
from ..i18n import language_now, said
from . import bp
from .auth import ChangePasswordForm, account_attempt_limit, login_attempt_limit, sign_in
from .forms import MAX_PAGE, CheckInForm, EventForm, LoginForm, OrderFilterForm, SignupForm, TicketTypeForm, to_utc

PUBLIC_ENDPOINTS = {"dashboard.login", "dashboard.signup"}


@bp.before_request
def require_login():
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if htmx:  # a poll after signing out: send the whole page to the login form, not into a fragment
        return Response(status=401, headers={"HX-Redirect": url_for("dashboard.login")})
    return current_app.login_manager.unauthorized()


@bp.context_processor
def helpers():
    return {"poll_seconds": current_app.config["AVAILABILITY_POLL_SECONDS"], "duration": room_figures.readable,
            "percent": _percent}


def _percent(value: float) -> str:
    """A share with one decimal in the page's language: "33.3 %", "33,3 %"."""
    return f"{format_decimal(value, format='0.0', locale=language_now())} %"


def _submit(form, apply):
    """Validate ``form`` and run ``apply()``; on failure put the message on its field.

    Returns (result, None) on success, else (None, HTTP status for re-rendering the form).
    """
    if not form.validate_on_submit():
        return None, (422 if form.is_submitted() else 200)
    try:
        return apply(), None
    except DomainError as error:
        field = form._fields.get(error.field) if error.field else None
        (field.errors if field is not None else form.form_errors).append(said(error))
        return None, error.http_status


def _actor() -> str:
    return actions.organizer_actor(current_user.email)


def _event(event_id: int):
    return lookups.owned_event(current_user.id, event_id)


# --- accounts ----------------------------------------------------------------

def _next_url() -> str:
    """Where to go after logging in: only a path on this site (no open redirect)."""
    target = request.args.get("next", "")
    # Browsers read a backslash as a slash ("/\\host" is "//host"), and a control character
    # (CR/LF in a header) is no part of a path: all of those go to the dashboard instead.
    if (target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(char) < 32 or ord(char) == 127 for char in target)):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("dashboard.index")


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error):
    wait = max(1, int(error.limit.limit.get_expiry()))  # the breached window: an upper bound
    signing_up = request.endpoint == "dashboard.signup"
    form = SignupForm() if signing_up else LoginForm()
    minutes = -(-wait // 60)
    form.form_errors.append(ngettext("Too many attempts. Wait a minute and try again.",
                                     "Too many attempts. Wait %(num)s minutes and try again.", minutes))
    page = "dashboard/signup.html" if signing_up else "dashboard/login.html"
    return render_template(page, form=form), 429, {"Retry-After": str(wait)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if not form.is_submitted():
        return render_template("dashboard/login.html", form=form)
    with login_attempt_limit(), account_attempt_limit():
        if not form.validate():
            return render_template("dashboard/login.html", form=form), 422
        organizer = accounts.authenticate(form.email.data, form.password.data)
    if organizer is None:
        form.form_errors.append(_("Email or password is incorrect."))
        return render_template("dashboard/login.html", form=form), 401
    sign_in(organizer)
    return redirect(_next_url())


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    with login_attempt_limit() if form.is_submitted() else nullcontext():
        done, status = _submit(form, lambda: accounts.sign_up(
            form.email.data, form.password.data, form.name.data or "", language=language_now()) or True)
    if not done:
        return render_template("dashboard/signup.html", form=form), status
    # The same answer for a new and a taken address; the email tells the address's owner which.
    return render_template("dashboard/signup.html", form=None, sent_to=normalize_email(form.email.data))


@bp.post("/logout")
def logout():
    """Logs out everywhere: a copied cookie must stop working at logout, and a session lives in
    its cookie, so the account's session version moves on and every device signs in again."""
    accounts.end_sessions(current_user.id)
    logout_user()
    session.clear()
    flash(_("You are logged out, on every device."))
    return redirect(url_for("dashboard.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    organizer, status = _submit(form, lambda: accounts.change_password(
        current_user.id, form.current_password.data, form.new_password.data))
    if organizer is None:
        return render_template("dashboard/password.html", form=form), status
    sign_in(organizer)  # this device stays signed in, with the new version; every other one is out
    flash(_("Password changed. Every other device was logged out."))
    return redirect(url_for("dashboard.index"))


# --- events and ticket types ------------------------------------------------

@bp.get("/")
def index():
    return render_template("dashboard/index.html", events=lookups.organizer_events(current_user.id))


@bp.route("/events/new", methods=["GET", "POST"])
def event_new():
    form = EventForm(hold_minutes=current_app.config["HOLD_MINUTES_DEFAULT"])  # HOLD_MINUTES: new events' default
    event, status = _submit(form, lambda: catalog.create_event(current_user.id, form.values()))
    if event is None:
        return render_template("dashboard/event_form.html", form=form, event=None), status
    flash(_("Event created. Now add its ticket types."))
    return redirect(url_for("dashboard.event", event_id=event.id))


@bp.route("/events/<id:event_id>/edit", methods=["GET", "POST"])
def event_edit(event_id: int):
    event = _event(event_id)
    form = EventForm()
    if not form.is_submitted():
        form.show(event)
    updated, status = _submit(form, lambda: catalog.update_event(event, form.values()))
    if updated is None:
        return render_template("dashboard/event_form.html", form=form, event=event), status
    flash(_("Event saved."))
    return redirect(url_for("dashboard.event", event_id=event_id))


@bp.post("/events/<id:event_id>/publication")
def event_publication(event_id: int):
    event = _event(event_id)
    choice = request.form.get("published")
    if choice not in ("1", "0"):
        raise InvalidRequest(N_("Choose to publish or to unpublish."))
    catalog.set_published(event, choice == "1")
    flash(_("The event is now visible in the shop.") if choice == "1" else _("The event is hidden from the shop."))
    return redirect(url_for("dashboard.event", event_id=event_id))


@bp.route("/events/<id:event_id>/ticket-types/new", methods=["GET", "POST"])
def ticket_type_new(event_id: int):
    event = _event(event_id)
    form = TicketTypeForm()
    created, status = _submit(form, lambda: catalog.create_ticket_type(event, form.values(event)))
    if created is None:
        return render_template("dashboard/ticket_type_form.html", form=form, event=event, ticket_type=None), status
    flash(_("Ticket type “%(name)s” added.", name=created.name))
    return redirect(url_for("dashboard.event", event_id=event_id))


@bp.route("/events/<id:event_id>/ticket-types/<id:ticket_type_id>/edit", methods=["GET", "POST"])
def ticket_type_edit(event_id: int, ticket_type_id: int):
    event = _event(event_id)
    ticket_type = lookups.owned_ticket_type(event, ticket_type_id)
    form = TicketTypeForm()
    if not form.is_submitted():
        form.show(ticket_type, event.timezone)
    updated, status = _submit(form, lambda: catalog.update_ticket_type(ticket_type, form.values(event)))
    if updated is None:
        return render_template("dashboard/ticket_type_form.html", form=form, event=event,
                               ticket_type=ticket_type), status
    flash(_("Ticket type “%(name)s” saved.", name=updated.name))
    return redirect(url_for("dashboard.event", event_id=event_id))


# --- live figures -------------------------------------------------------------

def _live(event) -> dict:
    numbers = organizer_figures.event_figures(event)
    series = chart.series(event.id, at=numbers.at)
    return {"event": event, "figures": numbers, "plot": chart.plot(series) if series else None,
            "waiting": waitlists.event_lines(event, at=numbers.at), "room": _room(event, numbers.at)}


def _room(event, at) -> room_figures.RoomCard | None:
    """The waiting room's card: its queue (Redis; None when unreachable), holds, pace, report."""
    report = waiting_room.report(event, at)
    return room_figures.card(event, report, waiting_room.seed_for(event, at), at) if report else None


@bp.get("/events/<id:event_id>")
def event(event_id: int):
    return render_template("dashboard/event.html", **_live(_event(event_id)))


@bp.get("/events/<id:event_id>/live")
def event_live(event_id: int):
    """The polled fragment: figures and chart."""
    return render_template("dashboard/_live.html", **_live(_event(event_id)))


# --- waiting lists ---------------------------------------------------------------

LINE_STATE_CHANGED = {
    "open": _l("The waiting list for %(name)s is open: people can join it, and tickets that come back are offered "
               "to it in line order."),
    "paused": _l("The waiting list for %(name)s is paused: nobody can join and no offers are made until you resume "
                 "it. The people waiting keep their places, and tickets that come back stay promised to them."),
    "closed": _l("The waiting list for %(name)s is closed: every place in it has ended (each was told by email), "
                 "and the tickets promised to it are on sale to the public."),
}


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE):
        raise InvalidRequest(N_("A page number from %(min)s to %(max)s."), field="page", min=1, max=MAX_PAGE)
    return int(raw)


@bp.get("/events/<id:event_id>/ticket-types/<id:ticket_type_id>/waitlist")
def waitlist_line(event_id: int, ticket_type_id: int):
    """The places of one line, in the order they joined, with what became of each."""
    event = _event(event_id)
    ticket_type = lookups.owned_ticket_type(event, ticket_type_id)
    page = waitlists.line_page(ticket_type, _page_number())
    return render_template("dashboard/waitlist.html", event=event, page=page, outcomes=waitlists.OUTCOMES)


@bp.post("/events/<id:event_id>/ticket-types/<id:ticket_type_id>/waitlist")
def waitlist_state(event_id: int, ticket_type_id: int):
    """Open, pause or close a line. Closing ends every place in it, so it is asked for twice."""
    event = _event(event_id)
    ticket_type = lookups.owned_ticket_type(event, ticket_type_id)
    state = request.form.get("state", "")
    if state == CLOSED and request.form.get("confirmed") != "1":
        return render_template("dashboard/waitlist_close.html", event=event, line=waitlists.line(ticket_type))
    waitlist.set_state(ticket_type, state)
    flash(str(LINE_STATE_CHANGED[state]) % {"name": ticket_type.name})
    return redirect(url_for("dashboard.event", event_id=event_id))


# --- orders ------------------------------------------------------------------------

def _order_filter(form: OrderFilterForm, event) -> order_lists.OrderFilter:
    until = form.created_until.data
    return order_lists.OrderFilter(
        status=OrderStatus(form.status.data) if form.status.data else None,
        ticket_type_id=int(form.ticket_type.data) if form.ticket_type.data else None,
        email=form.email.data or "",
        created_from=to_utc(datetime.combine(form.created_from.data, time()), event.timezone)
        if form.created_from.data else None,
        created_until=to_utc(datetime.combine(until + timedelta(days=1), time()), event.timezone) if until else None,
    )


@bp.get("/events/<id:event_id>/orders")
def orders(event_id: int):
    event = _event(event_id)
    form = OrderFilterForm(request.args)
    form.ticket_type.choices = [SelectChoice("", _("Any ticket type"))] + [
        SelectChoice(str(tt.id), tt.name) for tt in event.ticket_types]
    if not form.validate():
        return render_template("dashboard/orders.html", event=event, form=form, page=None), 422
    filters = _order_filter(form, event)
    if form.ticket.data:
        order_id = order_lists.ticket_order_id(event.id, form.ticket.data)
        if order_id is None:  # forged, or another event's: nothing to list, and no hint which
            return render_template("dashboard/orders.html", event=event, form=form, query=form.query(),
                                   page=order_lists.Page([], 1, 0), notice=_("No order has that ticket."))
        filters = replace(filters, order_id=order_id)
    page = order_lists.orders_page(event.id, filters, form.page.data or 1)
    return render_template("dashboard/orders.html", event=event, form=form, page=page, query=form.query())


@bp.get("/events/<id:event_id>/orders/<id:order_id>")
def order(event_id: int, order_id: int):
    event = _event(event_id)
    found = lookups.owned_order(event, order_id)
    return render_template("dashboard/order.html", event=event, order=found, actions=actions.allowed_actions(found))


@bp.post("/events/<id:event_id>/orders/<id:order_id>/release")
def order_release(event_id: int, order_id: int):
    actions.release_hold(lookups.owned_order(_event(event_id), order_id), actor=_actor())
    flash(_("The hold was released; its tickets are available again."))
    return redirect(url_for("dashboard.order", event_id=event_id, order_id=order_id))


@bp.post("/events/<id:event_id>/orders/<id:order_id>/refund")
def order_refund(event_id: int, order_id: int):
    actions.refund(lookups.owned_order(_event(event_id), order_id), actor=_actor())
    flash(_("The refund was requested."))
    return redirect(url_for("dashboard.order", event_id=event_id, order_id=order_id))


# --- check-in at the door -------------------------------------------------------------

def _door(event) -> dict:
    """The counts and the latest scans, polled so every door sees the others' work."""
    types, total = checkins.counts(event)
    return {"event": event, "counts": types, "total": total, "recent": checkins.recent(event.id)}


@bp.get("/events/<id:event_id>/checkin")
def checkin(event_id: int):
    return render_template("dashboard/checkin.html", form=CheckInForm(), result=None, **_door(_event(event_id)))


@bp.post("/events/<id:event_id>/checkin")
def checkin_scan(event_id: int):
    """One scan. Every outcome (forged, already in, ...) is a 200 answer; only bad input is a 4xx.
    htmx gets the answer panel and the refreshed counts; without script, the whole page."""
    event = _event(event_id)
    form = CheckInForm()
    result, status = _submit(form, lambda: door.check_in(event, form.code.data, device=form.device.data,
                                                           by=current_user.email))
    template = "dashboard/_checkin_answer.html" if htmx else "dashboard/checkin.html"
    return render_template(template, form=form, result=result, **_door(event)), status or 200


@bp.get("/events/<id:event_id>/checkin/status")
def checkin_status(event_id: int):
    return render_template("dashboard/_checkin_status.html", **_door(_event(event_id)))


@bp.post("/events/<id:event_id>/checkins/<id:checkin_id>/undo")
def checkin_undo(event_id: int, checkin_id: int):
    event = _event(event_id)
    undone = door.undo(checkins.owned_checkin(event, checkin_id).id, by=current_user.email)
    message = _("Check-in of %(name)s (order %(order)s, seat %(seat)s) undone.", name=undone.ticket_type.name,
                order=undone.order_id, seat=undone.seat)
    if htmx:
        return render_template("dashboard/_checkin_status.html", notice=message, **_door(event))
    flash(message)
    return redirect(url_for("dashboard.checkin", event_id=event_id))


# --- exports ---------------------------------------------------------------------

def _csv(event, name: str, rows) -> Response:
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{event.slug}-{name}.csv"'})


@bp.get("/events/<id:event_id>/exports/attendees.csv")
def export_attendees(event_id: int):
    event = _event(event_id)
    return _csv(event, "attendees", exports.attendees_csv(event.id))


@bp.get("/events/<id:event_id>/exports/orders.csv")
def export_orders(event_id: int):
    event = _event(event_id)
    return _csv(event, "orders", exports.orders_csv(event.id))

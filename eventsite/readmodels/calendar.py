"""An order's event as a calendar file (.ics), for the buyer's page and the confirmation email."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext, ngettext
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from ..domain.clock import now
from ..domain.models import Event, Order

PRODID = "-//eventsite//tickets//EN"
# An event without an end time still needs one: with DTSTART alone a timed VEVENT lasts no time at
# all (RFC 5545 3.6.1), and calendars show a zero-length sliver nobody plans around. Two hours is
# an evening's concert or talk; the buyer's calendar shows it as a block they can adjust.
ASSUMED_LENGTH = timedelta(hours=2)


def tickets_url(order: Order) -> str:
    """The printable tickets page, absolute (a calendar or a mailbox is not on the site).

    Built from PUBLIC_URL rather than url_for so that a job without a request can call it;
    the route is ``/r/<token>/tickets`` in web/payments/printables.py, and a test keeps them equal."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/r/{order.token}/tickets"


def event_end(event: Event) -> datetime:
    return event.ends_at or event.starts_at + ASSUMED_LENGTH


def event_ics(order: Order) -> bytes:
    """One VEVENT for the order's event, in the event's own time zone (with its VTIMEZONE, so
    calendar apps place it right wherever the buyer is). Its UID stays the same for the order,
    so downloading it again updates the entry instead of adding a second one. Its description
    is in the current language (the page's, or the email's forced one)."""
    event, zone = order.event, ZoneInfo(order.event.timezone)
    starts, ends = event.starts_at.astimezone(zone), event_end(event).astimezone(zone)
    url = tickets_url(order)

    entry = CalendarEvent()
    entry.add("uid", f"order-{order.id}-event-{event.id}@{_host()}")
    entry.add("dtstamp", now())
    entry.add("dtstart", starts)
    entry.add("dtend", ends)
    entry.add("summary", event.title)
    if event.venue:
        entry.add("location", event.venue)
    entry.add("description", gettext("%(tickets)s.\nYour tickets: %(url)s", tickets=_ticket_count(order), url=url))
    entry.add("url", url)
    entry.add("status", "CONFIRMED")

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(entry)
    # Only the years around the event: the default span (1970-2038) makes the file ~5 KB and ends at 2038.
    calendar.add_missing_timezones(first_date=date(starts.year - 1, 1, 1), last_date=date(ends.year + 2, 1, 1))
    return calendar.to_ical()


def _ticket_count(order: Order) -> str:
    kinds = ", ".join(f"{item.quantity} × {item.ticket_type.name}" for item in order.items)
    return ngettext("%(num)s ticket (%(kinds)s)", "%(num)s tickets (%(kinds)s)", order.quantity, kinds=kinds)


def _host() -> str:
    """Names the installation in the UID: order ids alone repeat across installations."""
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "eventsite"

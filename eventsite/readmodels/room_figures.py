"""The organizer's view of an event's waiting room: what stage it is at, and how soon the event
sells out at the pace buyers take tickets.

The queue's own figures come from Redis (``services.waiting_room.report``); the pace is the
database's, so it counts what was really taken, however buyers got in. Durations are written
in the page's language (``readable``, like ``localized``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.numbers import format_decimal
from flask_babel import gettext
from sqlalchemy import func, or_, select

from ..domain.holds import holds_clause
from ..domain.models import Event, Order, OrderItem, OrderStatus, WaitingRoom
from ..domain.waiting_room import Schedule
from ..infra.db import db
from ..infra.room_store import RoomFigures
from . import availability, localized

PACE_WINDOW = timedelta(minutes=5)

# Where a room is, as the organizer's card says it.
OFF, UNSCHEDULED, SCHEDULED, OPEN, SELLING, DRAINED, CLOSED = (
    "off", "unscheduled", "scheduled", "open", "selling", "drained", "closed")
REPORTED = (DRAINED, CLOSED)  # the sale is over for the room: its report is shown


@dataclass(frozen=True)
class SellOut:
    left: int  # tickets anyone may still take, on the ticket types still on sale
    taken: int  # tickets in orders placed within the window that are held or sold now
    window: timedelta

    @property
    def estimate(self) -> timedelta | None:
        """Time to sell out at the window's pace; None before any pace (or with nothing left)."""
        if not self.taken or not self.left:
            return None
        return timedelta(seconds=math.ceil(self.left * self.window.total_seconds() / self.taken))


@dataclass(frozen=True)
class RoomCard:
    stage: str
    report: object  # services.waiting_room.RoomReport (read models sit below the services)
    seed: str | None  # only once the draw's instant has passed
    sell_out: SellOut | None  # from the on-sale on


def stage(room: WaitingRoom, schedule: Schedule | None, figures: RoomFigures | None, at: datetime) -> str:
    """Off, waiting for a sales start, before opening, open before the draw, selling, drained (past
    the on-sale with nobody waiting and no admission open) or closed."""
    if room.closed_at is not None:
        return CLOSED
    if not room.enabled:
        return OFF
    if schedule is None:
        return UNSCHEDULED
    if at < schedule.opens_at:
        return SCHEDULED
    if not schedule.drawn_at(at):
        return OPEN
    if figures is not None and figures.waiting == 0 and figures.outstanding == 0:
        return DRAINED
    return SELLING


def sell_out(event: Event, at: datetime, since: datetime | None = None) -> SellOut:
    """Tickets left over the pace of the last ``PACE_WINDOW``, or since ``since`` (the on-sale) if
    that is later: a sale a minute old has a minute's pace, not a fifth of it."""
    start = max(at - PACE_WINDOW, since) if since is not None else at - PACE_WINDOW
    figures = availability.figures(event.id, at=at)
    selling = [tt.id for tt in event.ticket_types if tt.sales_end is None or tt.sales_end > at]
    left = sum(figures[tt_id].available for tt_id in selling)
    if start >= at:
        return SellOut(left, 0, timedelta(0))
    taken = db.session.scalar(
        select(func.coalesce(func.sum(OrderItem.quantity), 0))
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.event_id == event.id, Order.created_at >= start, Order.created_at <= at,
               or_(holds_clause(at), Order.status == OrderStatus.CONFIRMED)))
    return SellOut(left, int(taken), at - start)


def card(event: Event, report, seed: str | None, at: datetime) -> RoomCard:
    """The room's card from its report (``services.waiting_room.report``) and the published seed."""
    where = stage(report.room, report.schedule, report.figures, at)
    pace = sell_out(event, at, report.schedule.on_sale) if where in (SELLING, DRAINED) else None
    return RoomCard(where, report, seed, pace)


def readable(seconds: float | None) -> str:
    """A duration as people read it, in the page's language: "0.4 s", "42 s", "3 min 5 s", "2 h 10 min"
    ("3 Min. 5 Sek." in German); "—" for none."""
    if seconds is None:
        return "—"
    if seconds < 10 and seconds != int(seconds):
        return gettext("%(seconds)s s", seconds=format_decimal(round(seconds, 1), locale=localized.language_of()))
    whole = round(seconds)
    if whole < 60:
        return gettext("%(seconds)s s", seconds=whole)
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return (gettext("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=secs) if secs
                else gettext("%(minutes)s min", minutes=minutes))
    hours, minutes = divmod(minutes, 60)
    return (gettext("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes) if minutes
            else gettext("%(hours)s h", hours=hours))

"""The organizer's view of an event's waiting lists: per ticket type, who waits for how many
tickets, the offers out, taken and lapsed, the demand left unmet; and one line's places in order.

Counted in SQL, grouped by outcome (one query per event, one paged query per line), never by
loading entries. An offer's outcome is its order's effective status at ``at`` (the domain's
hold rule), so an offer that lapsed at 12:00:00 counts as lapsed from that instant, swept or not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select

from ..domain.clock import now as clock_now
from ..domain.errors import N_
from ..domain.holds import holds_clause
from ..domain.models import Event, Order, OrderItem, OrderStatus, TicketType, WaitlistEntry, WaitlistStatus
from ..infra.db import db

# What became of a place, and how the organizer reads it: still waiting; an offer out (a live hold),
# taken (paid, even if refunded since) or lapsed (not paid in time, or released); the buyer left;
# the organizer closed the line; or deferred by the event's waiting room (joins the line if it sells out).
# The labels are English messages, translated where shown (``_(outcomes[place.outcome])``).
OUTCOMES = {"waiting": N_("waiting"), "offered": N_("offer out"), "taken": N_("offer taken"),
            "lapsed": N_("offer lapsed"), "left": N_("left the line"), "closed": N_("ended by closing the list"),
            "deferred": N_("joins if the on-sale sells out")}
PER_PAGE = 100


def _outcome(at: datetime):
    """SQL: the outcome of an entry (joined to its offer, if any) at ``at``."""
    offered = WaitlistEntry.status == WaitlistStatus.OFFERED
    return case(
        (and_(offered, holds_clause(at)), "offered"),
        (and_(offered, Order.status.in_([OrderStatus.CONFIRMED, OrderStatus.REFUNDED])), "taken"),
        (offered, "lapsed"),
        else_=WaitlistEntry.status,
    )


def _with_offers(*columns):
    """``columns`` over entries with their offer and its one item (none while waiting)."""
    return (select(*columns).select_from(WaitlistEntry)
            .outerjoin(Order, Order.waitlist_entry_id == WaitlistEntry.id)
            .outerjoin(OrderItem, OrderItem.order_id == Order.id))


@dataclass(frozen=True)
class Count:
    entries: int = 0
    tickets: int = 0  # asked for (waiting, left, closed) or offered (offers: a partial one is fewer)


@dataclass(frozen=True)
class Line:
    """One ticket type's waiting list."""

    ticket_type: TicketType
    counts: dict[str, Count]  # every outcome of OUTCOMES

    @property
    def state(self) -> str:
        return self.ticket_type.waitlist

    @property
    def unmet_demand(self) -> int:
        """What the people still waiting would pay at today's price, in minor units."""
        return self.counts["waiting"].tickets * self.ticket_type.price


@dataclass(frozen=True)
class WaitingLists:
    at: datetime
    lines: list[Line]

    @property
    def unmet_demand(self) -> int:
        return sum(line.unmet_demand for line in self.lines)


def _lines(event_id: int, ticket_types: list[TicketType], at: datetime) -> list[Line]:
    outcome = _outcome(at).label("outcome")
    rows = db.session.execute(
        _with_offers(WaitlistEntry.ticket_type_id, outcome, func.count(WaitlistEntry.id),
                     func.sum(func.coalesce(OrderItem.quantity, WaitlistEntry.quantity)))
        .where(WaitlistEntry.event_id == event_id, WaitlistEntry.ticket_type_id.in_([tt.id for tt in ticket_types]))
        .group_by(WaitlistEntry.ticket_type_id, outcome))
    counts: dict[tuple[int, str], Count] = {(tt_id, str(name)): Count(entries, int(tickets))
                                            for tt_id, name, entries, tickets in rows}
    return [Line(tt, {name: counts.get((tt.id, name), Count()) for name in OUTCOMES}) for tt in ticket_types]


def event_lines(event: Event, *, at: datetime | None = None) -> WaitingLists:
    """Every ticket type's line of ``event`` as it stands at ``at``."""
    at = at or clock_now()
    return WaitingLists(at, _lines(event.id, list(event.ticket_types), at))


def line(ticket_type: TicketType, *, at: datetime | None = None) -> Line:
    [found] = _lines(ticket_type.event_id, [ticket_type], at or clock_now())
    return found


@dataclass(frozen=True)
class Place:
    entry_id: int
    position: int | None  # 1 at the head of the line; None once it no longer waits
    email: str
    quantity: int  # asked for
    joined_at: datetime
    outcome: str
    offer_id: int | None
    offered: int | None  # tickets offered
    offer_expires_at: datetime | None


@dataclass(frozen=True)
class LinePage:
    line: Line
    places: list[Place]
    number: int
    total: int
    at: datetime

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))


def line_page(ticket_type: TicketType, number: int = 1, *, at: datetime | None = None) -> LinePage:
    """The places of one line in the order they joined (waiting and past ones), page ``number``
    (past the end: the last page), with the line's figures."""
    at = at or clock_now()
    figures = line(ticket_type, at=at)
    total = sum(count.entries for count in figures.counts.values())
    number = min(max(1, number), max(1, math.ceil(total / PER_PAGE)))
    # A waiting entry's position is the number of waiting entries up to it, in line order.
    waiting_so_far = func.sum(case((WaitlistEntry.status == WaitlistStatus.WAITING, 1), else_=0)).over(
        order_by=WaitlistEntry.id)
    rows = db.session.execute(
        _with_offers(WaitlistEntry.id, WaitlistEntry.status, waiting_so_far, WaitlistEntry.email,
                     WaitlistEntry.quantity, WaitlistEntry.created_at, _outcome(at), Order.id, OrderItem.quantity,
                     Order.expires_at)
        .where(WaitlistEntry.ticket_type_id == ticket_type.id)
        .order_by(WaitlistEntry.id).limit(PER_PAGE).offset((number - 1) * PER_PAGE))
    places = [Place(entry_id, int(running) if status == WaitlistStatus.WAITING else None, email, quantity, joined,
                    str(outcome), offer_id, offered, expires)
              for entry_id, status, running, email, quantity, joined, outcome, offer_id, offered, expires in rows]
    return LinePage(figures, places, number, total, at)

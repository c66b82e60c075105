"""What the buyer pages show per ticket type, derived from inventory's figures.

Views render these lines; the availability fragment's ETag is a fingerprint of
them, so an unchanged poll costs one availability query and no rendering.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import astuple, dataclass, replace
from datetime import datetime

from flask_babel import lazy_gettext as _l

from ...domain import waitlist
from ...domain.capacity import Availability
from ...domain.models import Event
from ...domain.waiting_room import guarding
from ...readmodels import availability
from ..i18n import language_now

# No ticket for the public: the states in which buyers may join the waiting list.
JOINABLE = ("all_reserved", "sold_out")


@dataclass(frozen=True)
class TicketLine:
    id: int
    name: str
    price: int
    currency: str
    # "available", "all_reserved", "sold_out" (to the public: tickets that came back while people
    # wait are promised to them), "yours" (you hold the last ones), "not_yet" (sales open later) or "closed".
    state: str
    available: int
    held_by_others: int
    held_by_you: int
    retry_at: datetime | None  # earliest live hold's expiry, for "check back in mm:ss"
    sales_start: datetime | None
    max_qty: int  # what the picker offers: per-order limit and availability
    selected: int
    waiting_people: int  # entries in the ticket type's waiting list
    waitlist: str  # the line's state: open, paused or closed
    join_max: int  # what the "Join the waiting list" picker offers: 0 while nobody may join


def ticket_lines(event: Event, *, at: datetime, viewer_token: str | None,
                 selected: Mapping[int, int] | None = None) -> list[TicketLine]:
    figures = availability.for_display(event.id, at=at, viewer_token=viewer_token)
    selected = selected or {}
    lines = []
    for tt in event.ticket_types:
        figure = figures[tt.id]
        state = _state(tt, figure, at)
        max_qty = min(tt.per_order_limit, figure.available) if state == "available" else 0
        lines.append(TicketLine(
            id=tt.id, name=tt.name, price=tt.price, currency=tt.currency, state=state,
            available=figure.available, held_by_others=figure.held_by_others, held_by_you=figure.held_by_you,
            retry_at=figure.next_release_at if state == "all_reserved" else None,
            sales_start=tt.sales_start, max_qty=max_qty,
            selected=min(max(selected.get(tt.id, 0), 0), max_qty),
            waiting_people=figure.waiting_people, waitlist=tt.waitlist,
            join_max=tt.per_order_limit if state in JOINABLE and tt.waitlist == waitlist.OPEN else 0,
        ))
    return lines


def _state(tt, figure: Availability, at: datetime) -> str:
    if not tt.on_sale(at):
        return "not_yet" if tt.sales_start and at < tt.sales_start else "closed"
    if figure.available:
        return "available"
    if figure.held_by_others and not figure.waiting:  # with people waiting, what comes back is theirs
        return "all_reserved"
    return "yours" if figure.held_by_you else "sold_out"


def shareable(lines: list[TicketLine]) -> bool:
    """Can one rendering serve every anonymous watcher? Not while a countdown
    ("check back in mm:ss") is shown: that text depends on the instant."""
    return not any(line.retry_at or line.held_by_you or line.selected for line in lines)


def fingerprint(lines: list[TicketLine]) -> str:
    """The availability fragment's ETag: the figures shown, in which language, not the buyer's picks
    (an unchanged answer leaves the picks on the page alone)."""
    shown = [astuple(replace(line, selected=0)) for line in lines]
    return hashlib.sha256(repr((language_now(), shown)).encode()).hexdigest()[:24]


def on_sale_status(event: Event, at: datetime) -> str:
    """The event list's one-word summary of the sales windows (and of a waiting room standing in front):
    a key of ``ON_SALE_LABELS``, also the badge's CSS class."""
    types = event.ticket_types
    if guarding(event.waiting_room, types, at):
        return "waiting-room-open"
    if any(tt.on_sale(at) for tt in types):
        return "on-sale"
    if any(tt.sales_start and at < tt.sales_start for tt in types):
        return "coming-soon"
    return "sales-closed"


# What the event list's badge says, in the reader's language.
ON_SALE_LABELS = {
    "waiting-room-open": _l("Waiting room open"),
    "on-sale": _l("On sale"),
    "coming-soon": _l("Coming soon"),
    "sales-closed": _l("Sales closed"),
}

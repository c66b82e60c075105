"""A place on a waiting list as its holder sees it (the waiting page, the API): where it
stands in line (or that a waiting room deferred it), what others hold and when the earliest
comes back, its offer, and why it ended if it was closed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ..domain import waitlist
from ..domain.capacity import Availability
from ..domain.clock import now as clock_now
from ..domain.errors import N_, NotFound
from ..domain.holds import effective_status
from ..domain.models import Order, OrderStatus, WaitlistEntry, WaitlistStatus
from ..infra.db import db
from . import availability


@dataclass(frozen=True)
class Place:
    entry: WaitlistEntry
    position: int | None  # 1 at the head of the line; None once it no longer waits
    figure: Availability  # the ticket type's public figures now
    offer: Order | None
    offer_status: OrderStatus | None  # the offer's status as shown now (a lapsed offer is expired)
    at: datetime

    @property
    def state(self) -> str:
        """waiting, deferred (asked for from a waiting room: in line only if the sale sells out), offered
        (a live offer), bought, offer_lapsed (not taken, or released), left, closed."""
        if self.entry.status != WaitlistStatus.OFFERED:
            return self.entry.status.value
        return {OrderStatus.RESERVED: "offered", OrderStatus.PAYMENT_PROCESSING: "offered",
                OrderStatus.CONFIRMED: "bought", OrderStatus.REFUNDED: "bought"}.get(self.offer_status, "offer_lapsed")

    @property
    def why_closed(self) -> str | None:
        """For a closed place: the organizer closed the line, or its waiting room ended it (``domain.waitlist``)."""
        return waitlist.why_closed(self.entry) if self.entry.status == WaitlistStatus.CLOSED else None


def entry_by_token(token: str) -> WaitlistEntry:
    entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.token == token))
    if entry is None:
        raise NotFound(N_("There is no such place on a waiting list."))
    return entry


def position(entry: WaitlistEntry) -> int | None:
    """1 for the head of the line; None once the entry no longer waits."""
    if entry.status != WaitlistStatus.WAITING:
        return None
    ahead = db.session.scalar(select(func.count()).select_from(WaitlistEntry).where(
        WaitlistEntry.ticket_type_id == entry.ticket_type_id, WaitlistEntry.status == WaitlistStatus.WAITING,
        WaitlistEntry.id < entry.id))
    return ahead + 1


def place(token: str, *, at: datetime | None = None) -> Place:
    """The place named by ``token`` (NotFound otherwise), as things stand at ``at``."""
    at = at or clock_now()
    entry = entry_by_token(token)
    offer = entry.offer
    figure = availability.for_display(entry.event_id, at=at)[entry.ticket_type_id]
    return Place(entry, position(entry), figure, offer, effective_status(offer, at) if offer else None, at)

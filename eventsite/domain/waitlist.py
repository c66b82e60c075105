"""The waiting list's rules: who may join, and who gets an offer of the tickets that came back.

While anyone waits for a ticket type, its free tickets are promised to the line
(``capacity.Availability.promised``), so the public cannot take them. Offers go
strictly in line order: the head of the line is offered what it asked for as
soon as that many are free; nobody behind it is served first (unless the
organizer allows partial offers, when the head takes what there is). An offer is
a hold, placed under the ticket type's lock like any reservation.

A place asked for while the event's waiting room guards the sale is *deferred*: tickets are still
on sale to the people ahead in the room, so it is neither demand nor promised anything. When the
room closes sold out, the deferred places join their lines in the order they asked; when it closes
because sales ended, they end.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from . import waiting_room
from .capacity import Availability
from .errors import N_, Conflict, InvalidRequest, SalesClosed
from .models import TicketType, WaitlistEntry, WaitlistStatus

OPEN, PAUSED, CLOSED = "open", "paused", "closed"
STATES = (OPEN, PAUSED, CLOSED)
# Why a waiting room closed (``WaitingRoom.closed_reason``), and so what its deferred places become.
SOLD_OUT, SALES_ENDED = "sold_out", "sales_ended"
# Why a closed place ended, as its page and email say.
CLOSED_BY_ORGANIZER, CLOSED_SALES_ENDED, CLOSED_ALREADY_WAITING = "organizer", "sales_ended", "already_waiting"


def join_refusal(ticket_type: TicketType, figure: Availability, quantity: int, at: datetime, *,
                 deferred: bool = False) -> Exception | None:
    """Why this request may not join the line of ``ticket_type`` now, or None. A ``deferred`` place
    (asked for from a waiting room) may be asked for while tickets are available: they are the
    room's people's first."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= ticket_type.per_order_limit:
        return InvalidRequest(N_("Choose between 1 and %(limit)s %(name)s tickets."), field="quantity",
                              limit=ticket_type.per_order_limit, name=ticket_type.name)
    if ticket_type.waitlist == PAUSED:
        return Conflict(N_("The waiting list for %(name)s is paused; nobody can join it now."), name=ticket_type.name)
    if ticket_type.waitlist != OPEN:
        return Conflict(N_("The waiting list for %(name)s is closed; nobody can join it now."), name=ticket_type.name)
    if ticket_type.sales_end is not None and at >= ticket_type.sales_end:
        return SalesClosed(N_("Sales for %(name)s are closed."), name=ticket_type.name)
    if not deferred and figure.available >= quantity:
        return Conflict(N_("%(available)s %(name)s tickets are available right now: reserve them instead of waiting."),
                        field="quantity", available=figure.available, name=ticket_type.name)
    return None


def offers(line: Iterable[WaitlistEntry], free: int, *, partial: bool) -> list[tuple[WaitlistEntry, int]]:
    """(entry, quantity) to offer now, given the line in order and ``free`` tickets."""
    chosen = []
    for entry in line:
        if free <= 0:
            break
        if entry.quantity > free and not partial:
            break  # the head waits for all it asked for; nobody behind it is served first
        quantity = min(entry.quantity, free)
        chosen.append((entry, quantity))
        free -= quantity
    return chosen


def activation(deferred: Iterable[WaitlistEntry], waiting: Iterable[tuple[int, str]],
               reason: str) -> list[tuple[WaitlistEntry, WaitlistStatus]]:
    """What each deferred place becomes when its event's waiting room closes for ``reason``, in the
    order they asked: WAITING after a sell-out, unless its address already waits for that ticket
    type (``waiting``: (ticket type id, email) in line), which keeps its older place, so this one
    is CLOSED; CLOSED when sales ended."""
    if reason not in (SOLD_OUT, SALES_ENDED):
        raise ValueError(f"a waiting room closes sold_out or sales_ended, not {reason!r}")
    in_line = set(waiting)
    outcome = []
    for entry in sorted(deferred, key=lambda e: e.id):
        place = (entry.ticket_type_id, entry.email)
        joins = reason == SOLD_OUT and place not in in_line
        in_line.add(place)
        outcome.append((entry, WaitlistStatus.WAITING if joins else WaitlistStatus.CLOSED))
    return outcome


def why_closed(entry: WaitlistEntry) -> str:
    """Why a closed place ended: the organizer closed its line; or it was deferred by a waiting room
    that then closed because sales ended, or sold out while its address already had a place."""
    room = entry.event.waiting_room
    if entry.ticket_type.waitlist == CLOSED or not _deferred_by(room, entry):
        return CLOSED_BY_ORGANIZER
    return CLOSED_SALES_ENDED if room.closed_reason == SALES_ENDED else CLOSED_ALREADY_WAITING


def _deferred_by(room, entry: WaitlistEntry) -> bool:
    """Was ``entry`` asked for while ``room`` (now closed) guarded the sale? Then it was deferred."""
    when = waiting_room.schedule(room, entry.event.ticket_types)
    return when is not None and room.closed_at is not None and when.opens_at <= entry.created_at < room.closed_at

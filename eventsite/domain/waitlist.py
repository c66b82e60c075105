"""The waiting list's rules: who may join, and who gets an offer of the tickets that came back.

While anyone waits for a ticket type, its free tickets are promised to the line
(``capacity.Availability.promised``), so the public cannot take them. Offers go
strictly in line order: the head of the line is offered what it asked for as
soon as that many are free; nobody behind it is served first (unless the
organizer allows partial offers, when the head takes what there is). An offer is
a hold, placed under the ticket type's lock like any reservation.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .capacity import Availability
from .errors import Conflict, InvalidRequest, SalesClosed
from .models import TicketType, WaitlistEntry

OPEN, PAUSED, CLOSED = "open", "paused", "closed"
STATES = (OPEN, PAUSED, CLOSED)


def join_refusal(ticket_type: TicketType, figure: Availability, quantity: int, at: datetime) -> Exception | None:
    """Why this request may not join the line of ``ticket_type`` now, or None."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= ticket_type.per_order_limit:
        return InvalidRequest(f"Choose between 1 and {ticket_type.per_order_limit} {ticket_type.name} tickets.",
                              field="quantity")
    if ticket_type.waitlist != OPEN:
        return Conflict(f"The waiting list for {ticket_type.name} is {ticket_type.waitlist}; nobody can join it now.")
    if ticket_type.sales_end is not None and at >= ticket_type.sales_end:
        return SalesClosed(f"Sales for {ticket_type.name} are closed.")
    if figure.available >= quantity:
        return Conflict(f"{figure.available} {ticket_type.name} tickets are available right now: reserve them "
                        "instead of waiting.", field="quantity")
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

"""Renewing a hold (WCAG 2.2.1, Timing Adjustable): the rule of when a buyer may ask for more time.

In the last minutes of a reserved hold the buyer may add the event's renewal
length, up to the event's number of renewals, unless other buyers are waiting
for those tickets: renewing must never keep tickets from someone in line.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .errors import N_, Conflict, HoldExpired, NotReserved
from .holds import lapsed_at
from .models import Order, OrderStatus

# When the reservation page offers more time, and the server accepts a renewal.
WINDOW = timedelta(minutes=3)


class NotRenewable(Conflict):
    code = "not_renewable"


def refusal(order: Order, at: datetime, *, others_waiting: bool) -> Exception | None:
    """Why ``order`` (locked, with its ticket types) may not be renewed at ``at``, or None."""
    if lapsed_at(order, at) or order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
        return HoldExpired(N_("This hold has ended; there is nothing to renew. Reserve again."))
    if order.status != OrderStatus.RESERVED:
        return NotReserved(N_("Payment for these tickets has started, so the hold can no longer be renewed."))
    if order.expires_at - at > WINDOW:
        return NotRenewable(N_("More time can be asked for in the last %(minutes)s minutes of the hold."),
                            minutes=WINDOW.seconds // 60)
    if order.renewals >= order.event.max_renewals:
        return NotRenewable(N_("This hold has been renewed as often as the organizer allows."))
    if others_waiting:
        return NotRenewable(N_("Other buyers are waiting for these tickets, so this hold cannot be renewed. "
                               "Pay now to keep them."))
    return None


def renewed_until(order: Order) -> datetime:
    return order.expires_at + timedelta(minutes=order.event.renewal_minutes)


def offer_window(at: datetime, order: Order) -> bool:
    """Should the reservation page offer "Need more time?" at ``at``? When the rule would grant it
    but for anyone waiting, which only the locked renewal can tell."""
    return refusal(order, at, others_waiting=False) is None

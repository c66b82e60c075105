"""Renewing a hold: more time for a buyer still paying, never at the expense of someone waiting.

The rule is ``domain.renewals``; here it runs with the order and its ticket
types locked and "now" read after the locks, so a renewal cannot bring back a
hold that another buyer's reservation already saw as lapsed.
"""
from __future__ import annotations

from ..domain import capacity, locks, renewals
from ..domain.changes import note_event_changed
from ..domain.clock import now
from ..domain.models import Order
from ..domain.state_machine import note
from ..infra.db import db
from ..infra.transactions import write_transaction
from ..readmodels import availability
from .expiry_timer import schedule_expiry


def renew(order: Order, *, actor: str) -> Order:
    """Add the event's renewal length to ``order``'s hold, or raise why not, changing nothing."""
    ticket_type_ids = [item.ticket_type_id for item in order.items]
    # Redis is read before any lock (no network inside one): was anyone just turned away?
    turned_away = availability.turned_away_recently(ticket_type_ids, now())
    with write_transaction(expire_on_commit=False):
        order = locks.order(db.session, order.id)
        _, figures, at = capacity.locked_figures(db.session, order.event_id, ticket_type_ids)
        refused = renewals.refusal(order, at, others_waiting=turned_away or capacity.line_waiting(figures))
        if refused:
            raise refused
        order.expires_at, order.renewals = renewals.renewed_until(order), order.renewals + 1
        note_event_changed(db.session, order.event_id)  # others' "check back at" follows the new expiry
        note(order, reason=f"hold renewed until {order.expires_at.isoformat(timespec='seconds')} "
                           f"({order.renewals} of {order.event.max_renewals})", actor=actor)
    schedule_expiry(order)
    return order

"""Checks of the waiting list shared by the model-based and the concurrency tests. They count
in plain SQL, so they do not trust the read models and services they check."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from eventsite.infra.db import db

# Per ticket type: capacity, the sold counter, sold counted from the orders, and the live holds
# at :at (the hold rule of DESIGN.md section 3, written out again here).
_TAKEN = text("""
SELECT tt.id, tt.capacity, tt.sold AS sold_counter,
       COALESCE(SUM(oi.quantity) FILTER (WHERE o.status = 'confirmed'), 0) AS sold,
       COALESCE(SUM(oi.quantity) FILTER (
           WHERE o.status IN ('reserved', 'payment_processing')
             AND (o.expires_at > :at OR (o.status = 'payment_processing' AND o.payment_pending
                                         AND o.pending_until > :at))), 0) AS held
FROM ticket_types tt
LEFT JOIN order_items oi ON oi.ticket_type_id = tt.id
LEFT JOIN orders o ON o.id = oi.order_id
WHERE tt.event_id = :event_id
GROUP BY tt.id ORDER BY tt.id""")

_OFFERS_PER_ENTRY = text("""
SELECT e.id, e.status, COUNT(o.id) AS offers
FROM waitlist_entries e LEFT JOIN orders o ON o.waitlist_entry_id = e.id
WHERE e.event_id = :event_id
GROUP BY e.id ORDER BY e.id""")

_LINE = text("""
SELECT id, status FROM waitlist_entries
WHERE ticket_type_id = :ticket_type_id AND status IN ('waiting', 'offered') ORDER BY id""")


def taken(event_id: int, at: datetime) -> dict[int, tuple[int, int, int]]:
    """{ticket type id: (capacity, sold, held at ``at``)}, asserting the sold counter agrees."""
    rows = db.session.execute(_TAKEN, {"event_id": event_id, "at": at}).all()
    for row in rows:
        assert row.sold_counter == row.sold, row
    return {row.id: (row.capacity, int(row.sold), int(row.held)) for row in rows}


def assert_not_oversold(event_id: int, at: datetime) -> None:
    for tt_id, (capacity, sold, held) in taken(event_id, at).items():
        assert sold + held <= capacity, (tt_id, capacity, sold, held)


def entry_statuses(event_id: int) -> dict[int, str]:
    """{entry id: status}, asserting each entry has exactly one offer if offered and none otherwise."""
    rows = db.session.execute(_OFFERS_PER_ENTRY, {"event_id": event_id}).all()
    for row in rows:
        assert row.offers == (1 if row.status == "offered" else 0), row
    return {row.id: row.status for row in rows}


def assert_offers_are_a_prefix(ticket_type_id: int) -> None:
    """A line is served from its head, and nobody behind a head still waiting is served: in id
    order, the entries still in it (left and closed ones aside) are offered ones, then waiting ones."""
    statuses = [row.status for row in db.session.execute(_LINE, {"ticket_type_id": ticket_type_id})]
    served = statuses.count("offered")
    assert statuses == ["offered"] * served + ["waiting"] * (len(statuses) - served), statuses

"""What an organizer sees of one event at one instant: the one read model
behind the dashboard's live figures and the organizer API's figures.

Ticket counts (capacity, sold, held, available, earliest expiry) come from
``domain.capacity.availability``, the same count the shop and the locked
recheck make, so every page agrees to the unit. What the shop does not need
(how many holds are live, lapsed and released holds, revenue, conversion,
orders per status) is aggregated here in SQL by order outcome, never by
loading orders; "live" and "expired" use the domain's hold rule and effective
status, so a lapsed hold is expired here from its instant, swept or not.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select

from ..domain.capacity import availability
from ..domain.clock import now as clock_now
from ..domain.holds import effective_status_clause, holds_clause
from ..domain.models import HOLDING_STATUSES, Event, Order, OrderItem, OrderStatus
from ..infra.db import db
from .checkins import checked_in_by_type

S = OrderStatus


@dataclass
class Outcomes:
    """Orders (and their tickets) by what became of them."""

    live_holds: int = 0
    expired_orders: int = 0
    expired_tickets: int = 0
    released_orders: int = 0
    released_tickets: int = 0
    confirmed_orders: int = 0
    all_orders: int = 0

    @property
    def conversion(self) -> float | None:
        """Share of orders (every order started as a hold) that became paid, in %."""
        return round(100 * self.confirmed_orders / self.all_orders, 1) if self.all_orders else None


@dataclass
class Row:
    name: str
    capacity: int
    sold: int
    held: int
    available: int
    next_release_at: datetime | None
    outcomes: Outcomes
    revenue: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    checked_in: int = 0  # seats let in at the door (check-ins in force)


@dataclass
class Figures:
    at: datetime
    types: list[Row]
    total: Row
    orders_by_status: dict[str, int]  # effective status value -> orders


def _bucket(at: datetime):
    """SQL: what became of an order, as seen at ``at`` (a lapsed, unswept hold counts as expired)."""
    return case(
        (holds_clause(at), "live"),
        (Order.status.in_(HOLDING_STATUSES), "expired"),
        else_=Order.status,
    )


def _outcomes_query(event_id: int, at: datetime, by_type: bool):
    bucket = _bucket(at).label("bucket")
    columns = [bucket, func.count(func.distinct(Order.id)).label("orders"),
               func.coalesce(func.sum(OrderItem.quantity), 0).label("tickets"),
               func.coalesce(func.sum(OrderItem.quantity * OrderItem.unit_price), 0).label("amount")]
    group = [bucket]
    if by_type:
        columns.insert(0, OrderItem.ticket_type_id)
        group.insert(0, OrderItem.ticket_type_id)
    return (select(*columns).select_from(Order).join(OrderItem, OrderItem.order_id == Order.id)
            .where(Order.event_id == event_id).group_by(*group))


def _fill(outcomes: Outcomes, bucket: str, orders: int, tickets: int) -> None:
    outcomes.all_orders += orders
    if bucket == "live":
        outcomes.live_holds += orders
    elif bucket == S.EXPIRED.value:
        outcomes.expired_orders += orders
        outcomes.expired_tickets += tickets
    elif bucket == S.CANCELLED.value:
        outcomes.released_orders += orders
        outcomes.released_tickets += tickets
    elif bucket == S.CONFIRMED.value:
        outcomes.confirmed_orders += orders


def event_figures(event: Event, *, at: datetime | None = None) -> Figures:
    at = at or clock_now()
    counts = availability(db.session, event.id, at=at)
    per_type: dict[int, Outcomes] = defaultdict(Outcomes)
    revenue: dict[int, int] = defaultdict(int)
    for row in db.session.execute(_outcomes_query(event.id, at, by_type=True)):
        _fill(per_type[row.ticket_type_id], str(row.bucket), row.orders, int(row.tickets))
        if row.bucket == S.CONFIRMED.value:
            revenue[row.ticket_type_id] += int(row.amount)
    total_outcomes = Outcomes()
    for row in db.session.execute(_outcomes_query(event.id, at, by_type=False)):
        _fill(total_outcomes, str(row.bucket), row.orders, int(row.tickets))

    inside = checked_in_by_type(event.id)
    rows: list[Row] = []
    total_revenue: dict[str, int] = defaultdict(int)
    for tt in event.ticket_types:
        f = counts[tt.id]
        rows.append(Row(tt.name, f.capacity, f.sold, f.held, f.available, f.next_release_at,
                        per_type[tt.id], {event.currency: revenue[tt.id]}, inside.get(tt.id, 0)))
        total_revenue[event.currency] += revenue[tt.id]
    releases = [r.next_release_at for r in rows if r.next_release_at]
    total = Row("Total", sum(r.capacity for r in rows), sum(r.sold for r in rows), sum(r.held for r in rows),
                sum(r.available for r in rows), min(releases, default=None), total_outcomes, dict(total_revenue),
                sum(r.checked_in for r in rows))
    return Figures(at, rows, total, _orders_by_status(event.id, at))


def _orders_by_status(event_id: int, at: datetime) -> dict[str, int]:
    shown = effective_status_clause(at).label("shown")
    counts = {str(status): count for status, count in db.session.execute(
        select(shown, func.count()).where(Order.event_id == event_id).group_by(shown))}
    return {status.value: counts.get(status.value, 0) for status in OrderStatus}


"""Sales and holds over time, as points for a server-rendered SVG chart.

The span from the event's first order to now is cut into at most ``MAX_POINTS``
steps of whole hours; the last point is ``now`` itself, so the chart ends on the
same figures as the live table. The database sums ticket changes per step
(a CASE over the step boundaries works alike on PostgreSQL and SQLite); Python
only adds up those few sums.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from sqlalchemy import and_, case, func, select

from ..domain.clock import now as clock_now
from ..domain.models import HOLDING_STATUSES, Order, OrderEvent, OrderItem, OrderStatus
from ..infra.db import db

MAX_POINTS = 48
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Series:
    instants: list[datetime]
    sold: list[int]
    held: list[int]


def _boundaries(first: datetime, at: datetime) -> list[datetime]:
    start = first.replace(minute=0, second=0, microsecond=0)
    hours = max(1, -(-(at - start) // HOUR))  # ceiling
    step = HOUR * -(-hours // MAX_POINTS)
    instants = []
    point = start + step
    while point < at:
        instants.append(point)
        point += step
    return [start, *instants, at]


def _step_of(column, instants: list[datetime]):
    """SQL: index of the first boundary at or after ``column`` (None after the last)."""
    return case(*[(column <= instant, index) for index, instant in enumerate(instants)], else_=None)


def _per_step(delta_rows, steps: int) -> list[int]:
    deltas = [0] * steps
    for step, amount in delta_rows:
        if step is not None:
            deltas[step] += int(amount or 0)
    return list(accumulate(deltas))


def _quantities():
    """Tickets per order."""
    return (select(OrderItem.order_id, func.sum(OrderItem.quantity).label("qty"))
            .group_by(OrderItem.order_id).subquery())


def series(event_id: int, *, at: datetime | None = None) -> Series | None:
    at = at or clock_now()
    first = db.session.scalar(select(func.min(Order.created_at)).where(Order.event_id == event_id))
    if first is None or first > at:
        return None
    instants = _boundaries(first, at)
    qty = _quantities()

    # Sold: +tickets when an order is confirmed, -tickets when a confirmed one is refunded.
    sign = case((OrderEvent.to_status == OrderStatus.CONFIRMED.value, 1),
                (OrderEvent.from_status == OrderStatus.CONFIRMED.value, -1), else_=0)
    sold_step = _step_of(OrderEvent.at, instants)
    sold = db.session.execute(
        select(sold_step, func.sum(sign * qty.c.qty))
        .join(Order, Order.id == OrderEvent.order_id).join(qty, qty.c.order_id == Order.id)
        .where(Order.event_id == event_id, OrderEvent.at <= at, sign != 0).group_by(sold_step)
    ).all()

    # Held: +tickets when reserved; -tickets when the hold ended: it left the holding
    # statuses, or lapsed first (unless an async payment kept it), whichever came first.
    left = (select(OrderEvent.order_id, func.min(OrderEvent.at).label("at"))
            .where(OrderEvent.from_status.in_([s.value for s in HOLDING_STATUSES]),
                   OrderEvent.to_status.not_in([s.value for s in HOLDING_STATUSES]))
            .group_by(OrderEvent.order_id).subquery())
    ended = case(
        (and_(Order.payment_pending, left.c.at.is_(None)), None),
        (left.c.at.is_(None), Order.expires_at),
        (and_(Order.payment_pending.is_(False), Order.expires_at < left.c.at), Order.expires_at),
        else_=left.c.at,
    )
    base = (select(Order.id).join(qty, qty.c.order_id == Order.id).outerjoin(left, left.c.order_id == Order.id)
            .where(Order.event_id == event_id))
    started_step, ended_step = _step_of(Order.created_at, instants), _step_of(ended, instants)
    placed = db.session.execute(
        base.with_only_columns(started_step, func.sum(qty.c.qty)).group_by(started_step)).all()
    gone = db.session.execute(
        base.with_only_columns(ended_step, func.sum(-qty.c.qty)).group_by(ended_step)).all()
    held = _per_step([*placed, *gone], len(instants))
    return Series(instants, _per_step(sold, len(instants)), held)


@dataclass(frozen=True)
class Plot:
    width: int
    height: int
    pad: int
    sold_points: str
    held_points: str
    ticks: list[tuple[float, str]]  # x, label
    start: datetime
    end: datetime


def plot(data: Series, *, width: int = 600, height: int = 200, pad: int = 24) -> Plot:
    """Scale the series into SVG coordinates (y grows downwards)."""
    top = max([*data.sold, *data.held, 1])
    span = (data.instants[-1] - data.instants[0]).total_seconds() or 1

    def x(instant: datetime) -> float:
        return round(pad + (width - 2 * pad) * (instant - data.instants[0]).total_seconds() / span, 1)

    def y(value: int) -> float:
        return round(height - pad - (height - 2 * pad) * value / top, 1)

    def line(values: list[int]) -> str:
        return " ".join(f"{x(i)},{y(v)}" for i, v in zip(data.instants, values, strict=True))

    ticks = [(y(value), str(value)) for value in sorted({0, top})]
    return Plot(width, height, pad, line(data.sold), line(data.held), ticks, data.instants[0], data.instants[-1])

"""Sales, holds and lapsed holds over time, as points for a server-rendered SVG chart.

The span from the event's first order to now is cut into at most ``MAX_STEPS``
steps of the finest size that fits (1 minute during an on-sale's first two hours,
then 5, 15, 60 minutes ... as it grows), so a hold placed at 20:30 shows at 20:30
and a 15-minute hold is never lost between two points. The last point is ``now``
itself, so the chart ends on the same figures as the live table. The database
sums ticket changes per step (a CASE over the step boundaries works alike on
PostgreSQL and SQLite); Python only adds up those few sums.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from sqlalchemy import and_, case, func, select

from ..domain.clock import now as clock_now
from ..domain.holds import effective_status_is
from ..domain.models import HOLDING_STATUSES, Order, OrderEvent, OrderItem, OrderStatus
from ..infra.db import db

MAX_STEPS = 120  # so at most MAX_STEPS + 1 points, the last one being "now"
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
# Each divides a day, so steps fall on round clock times (20:30, 20:45, 21:00 ...).
STEPS = [MINUTE * m for m in (1, 5, 15, 60, 180, 360, 720, 1440)]


@dataclass(frozen=True)
class Series:
    instants: list[datetime]
    sold: list[int]
    held: list[int]
    lapsed: list[int]  # tickets whose hold lapsed (expired) by then, running total
    step: timedelta


def _floor(instant: datetime, step: timedelta) -> datetime:
    midnight = instant.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + (instant - midnight) // step * step


def _steps(start: datetime, at: datetime, step: timedelta) -> int:
    return -(-(at - start) // step)  # ceiling


def step_for(first: datetime, at: datetime) -> timedelta:
    """The finest step that cuts the span into at most ``MAX_STEPS`` (whole days beyond the list)."""
    for step in STEPS:
        if _steps(_floor(first, step), at, step) <= MAX_STEPS:
            return step
    return DAY * -(-_steps(_floor(first, DAY), at, DAY) // MAX_STEPS)


def _boundaries(first: datetime, at: datetime) -> list[datetime]:
    step = step_for(first, at)
    start = _floor(first, step)
    return [start, *(start + step * k for k in range(1, _steps(start, at, step))), at]


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
    # Lapsed: the holds shown as expired now (as in the live table), counted from when they ended.
    lapsed = db.session.execute(
        base.with_only_columns(ended_step, func.sum(qty.c.qty))
        .where(effective_status_is(OrderStatus.EXPIRED, at)).group_by(ended_step)).all()
    steps = len(instants)
    return Series(instants, _per_step(sold, steps), _per_step([*placed, *gone], steps), _per_step(lapsed, steps),
                  step_for(first, at))


@dataclass(frozen=True)
class Line:
    name: str  # sold, held, lapsed: the CSS class, whose dash pattern tells it apart without colour
    points: str
    last: int  # the value now, written next to the legend


@dataclass(frozen=True)
class Plot:
    width: int
    height: int
    pad: int
    lines: list[Line]
    ticks: list[tuple[float, str]]  # y, label
    start: datetime
    end: datetime
    step_minutes: int


def plot(data: Series, *, width: int = 600, height: int = 200, pad: int = 24) -> Plot:
    """Scale the series into SVG coordinates (y grows downwards)."""
    named = {"sold": data.sold, "held": data.held, "lapsed": data.lapsed}
    top = max([*data.sold, *data.held, *data.lapsed, 1])
    span = (data.instants[-1] - data.instants[0]).total_seconds() or 1

    def x(instant: datetime) -> float:
        return round(pad + (width - 2 * pad) * (instant - data.instants[0]).total_seconds() / span, 1)

    def y(value: int) -> float:
        return round(height - pad - (height - 2 * pad) * value / top, 1)

    lines = [Line(name, " ".join(f"{x(i)},{y(v)}" for i, v in zip(data.instants, values, strict=True)), values[-1])
             for name, values in named.items()]
    ticks = [(y(value), str(value)) for value in sorted({0, top})]
    return Plot(width, height, pad, lines, ticks, data.instants[0], data.instants[-1], data.step // MINUTE)

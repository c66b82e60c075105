"""The orders of one event as organizers list them (dashboard and API alike),
filtered by what each order is *shown* as now (its effective status)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..domain import tickets as codes
from ..domain.clock import now
from ..domain.holds import effective_status_is
from ..domain.models import Order, OrderItem, OrderStatus
from ..infra.db import db
from .tickets import secret

PER_PAGE = 50
MAX_ORDER_ID = 2**31 - 1  # orders.id is a 32-bit integer: a code naming a larger one is no ticket


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    ticket_type_id: int | None = None
    email: str = ""
    created_from: datetime | None = None  # inclusive
    created_until: datetime | None = None  # exclusive
    order_id: int | None = None  # the order a ticket code names (``ticket_order_id``)

    def criteria(self, event_id: int, at: datetime) -> list:
        criteria = [Order.event_id == event_id]
        if self.order_id:
            criteria.append(Order.id == self.order_id)
        if self.status:
            criteria.append(effective_status_is(self.status, at))
        if self.ticket_type_id:
            criteria.append(Order.items.any(OrderItem.ticket_type_id == self.ticket_type_id))
        if self.email:
            criteria.append(Order.email.icontains(self.email.strip(), autoescape=True))
        if self.created_from:
            criteria.append(Order.created_at >= self.created_from)
        if self.created_until:
            criteria.append(Order.created_at < self.created_until)
        return criteria


@dataclass(frozen=True)
class Page:
    orders: list[Order]
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / PER_PAGE))

    @property
    def has_next(self) -> bool:
        return self.number * PER_PAGE < self.total


def orders_page(event_id: int, filters: OrderFilter, number: int = 1, *, clamp: bool = True) -> Page:
    """Newest first. ``clamp`` turns a page past the end into the last page (pages
    people click through); without it such a page is empty (the API's paging)."""
    criteria = filters.criteria(event_id, now())
    total = db.session.scalar(select(func.count(Order.id)).where(*criteria))
    if clamp:
        number = min(max(1, number), max(1, math.ceil(total / PER_PAGE)))
    orders = db.session.scalars(
        select(Order).where(*criteria).options(selectinload(Order.items).selectinload(OrderItem.ticket_type),
                                               selectinload(Order.anomalies))
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    )
    return Page(list(orders), number, total)




def ticket_order_id(event_id: int, code: str) -> int | None:
    """The order of a genuine ticket code of this event; None for a forged or mistyped code, or
    another event's (whose order is not ours to show)."""
    parsed = codes.parse(code)
    if parsed is None or parsed.order_id > MAX_ORDER_ID:
        return None
    order = db.session.scalar(select(Order).where(Order.id == parsed.order_id, Order.event_id == event_id))
    if order is None or not 1 <= parsed.seat <= order.quantity or not codes.signed_by(parsed, secret(), order.token):
        return None
    return order.id

"""The orders of one event: a filtered, paginated list and the CSV exports (no HTTP here)."""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Order, OrderItem, OrderStatus, TicketType

PER_PAGE = 50


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    ticket_type_id: int | None = None
    email: str = ""
    created_from: datetime | None = None  # inclusive
    created_until: datetime | None = None  # exclusive

    def criteria(self, event_id: int) -> list:
        criteria = [Order.event_id == event_id]
        if self.status:
            criteria.append(Order.status == self.status)
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


def orders_page(event_id: int, filters: OrderFilter, number: int = 1) -> Page:
    criteria = filters.criteria(event_id)
    total = db.session.scalar(select(func.count(Order.id)).where(*criteria))
    number = min(max(1, number), max(1, math.ceil(total / PER_PAGE)))
    orders = db.session.scalars(
        select(Order).where(*criteria).options(selectinload(Order.items).selectinload(OrderItem.ticket_type))
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(PER_PAGE).offset((number - 1) * PER_PAGE)
    )
    return Page(list(orders), number, total)


# --- CSV exports: rows come from a server-side cursor and leave as they are read

STREAM_BATCH = 500


def _csv_lines(header: list[str], rows) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_inert(cell) for cell in row])
        if buffer.tell() > 16_384:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _inert(cell):
    """Buyer-typed text starting like a formula is prefixed, so spreadsheets show it instead of running it."""
    return f"'{cell}" if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def _money(minor: int) -> str:
    return f"{minor / 100:.2f}"


def attendees_csv(event_id: int) -> Iterator[str]:
    """One row per ticket of every confirmed order."""
    query = (
        select(Order.id, Order.email, Order.updated_at, TicketType.id, TicketType.name, OrderItem.quantity,
               OrderItem.unit_price, TicketType.currency)
        .join(OrderItem, OrderItem.order_id == Order.id).join(TicketType, TicketType.id == OrderItem.ticket_type_id)
        .where(Order.event_id == event_id, Order.status == OrderStatus.CONFIRMED)
        .order_by(Order.id, TicketType.id)
        .execution_options(yield_per=STREAM_BATCH)
    )

    def rows():
        for order_id, email, updated_at, tt_id, name, quantity, unit_price, currency in db.session.execute(query):
            for number in range(1, quantity + 1):
                yield [f"{order_id}-{tt_id}-{number}", order_id, email, name, number, _money(unit_price), currency,
                       _iso(updated_at)]

    return _csv_lines(["ticket", "order_id", "email", "ticket_type", "number_in_order", "price", "currency",
                       "updated_at"], rows())


def orders_csv(event_id: int) -> Iterator[str]:
    """One row per order, with its tickets and amount summed in SQL."""
    query = (
        select(Order.id, Order.created_at, Order.email, Order.status, func.sum(OrderItem.quantity),
               func.sum(OrderItem.quantity * OrderItem.unit_price), func.min(TicketType.currency),
               Order.stripe_session_id, Order.payment_intent_id, Order.refund_id, Order.updated_at)
        .join(OrderItem, OrderItem.order_id == Order.id).join(TicketType, TicketType.id == OrderItem.ticket_type_id)
        .where(Order.event_id == event_id).group_by(Order.id).order_by(Order.id)
        .execution_options(yield_per=STREAM_BATCH)
    )

    def rows():  # a generator, so the query runs while the response streams, not before
        for order_id, created, email, status, quantity, amount, currency, session, intent, refund, updated \
                in db.session.execute(query):
            yield [order_id, _iso(created), email, OrderStatus(status).value, quantity, _money(amount), currency,
                   session or "", intent or "", refund or "", _iso(updated)]

    return _csv_lines(["order_id", "created_at", "email", "status", "tickets", "total", "currency",
                       "stripe_session_id", "payment_intent_id", "refund_id", "updated_at"], rows())

"""CSV exports of one event: rows come from a server-side cursor and leave as they are read.
Statuses are effective statuses and amounts follow the currency's minor unit."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select

from ..domain.clock import now
from ..domain.formatting import decimal_amount
from ..domain.holds import effective_status_clause
from ..domain.models import Order, OrderItem, OrderStatus, TicketType
from ..infra.db import db

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


def attendees_csv(event_id: int) -> Iterator[str]:
    """One row per ticket of every confirmed order."""
    query = (
        select(Order.id, Order.email, Order.updated_at, TicketType.id, TicketType.name, OrderItem.quantity,
               OrderItem.unit_price, Order.currency)
        .join(OrderItem, OrderItem.order_id == Order.id).join(TicketType, TicketType.id == OrderItem.ticket_type_id)
        .where(Order.event_id == event_id, Order.status == OrderStatus.CONFIRMED)
        .order_by(Order.id, TicketType.id)
        .execution_options(yield_per=STREAM_BATCH)
    )

    def rows():
        for order_id, email, updated_at, tt_id, name, quantity, unit_price, currency in db.session.execute(query):
            for number in range(1, quantity + 1):
                yield [f"{order_id}-{tt_id}-{number}", order_id, email, name, number,
                       decimal_amount(unit_price, currency), currency, _iso(updated_at)]

    return _csv_lines(["ticket", "order_id", "email", "ticket_type", "number_in_order", "price", "currency",
                       "updated_at"], rows())


def orders_csv(event_id: int) -> Iterator[str]:
    """One row per order, with its tickets and amount summed in SQL."""
    query = (
        select(Order.id, Order.created_at, Order.email, effective_status_clause(now()), func.sum(OrderItem.quantity),
               func.sum(OrderItem.quantity * OrderItem.unit_price), Order.currency,
               Order.stripe_session_id, Order.payment_intent_id, Order.refund_id, Order.updated_at)
        .join(OrderItem, OrderItem.order_id == Order.id).join(TicketType, TicketType.id == OrderItem.ticket_type_id)
        .where(Order.event_id == event_id).group_by(Order.id).order_by(Order.id)
        .execution_options(yield_per=STREAM_BATCH)
    )

    def rows():  # a generator, so the query runs while the response streams, not before
        for order_id, created, email, status, quantity, amount, currency, session, intent, refund, updated \
                in db.session.execute(query):
            yield [order_id, _iso(created), email, OrderStatus(status).value, quantity,
                   decimal_amount(amount, currency), currency, session or "", intent or "", refund or "", _iso(updated)]

    return _csv_lines(["order_id", "created_at", "email", "status", "tickets", "total", "currency",
                       "stripe_session_id", "payment_intent_id", "refund_id", "updated_at"], rows())

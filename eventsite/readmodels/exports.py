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
from . import checkins, tickets

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
    """One row per ticket of every confirmed order: its signed code (the one on the ticket and
    at the door), seats numbered across the order as ``domain.tickets.seats`` does, and when
    and where it was checked in."""
    query = (
        select(Order.id, Order.token, Order.email, Order.updated_at, TicketType.name, OrderItem.quantity,
               OrderItem.unit_price, Order.currency)
        .join(OrderItem, OrderItem.order_id == Order.id).join(TicketType, TicketType.id == OrderItem.ticket_type_id)
        .where(Order.event_id == event_id, Order.status == OrderStatus.CONFIRMED)
        .order_by(Order.id, OrderItem.ticket_type_id)  # the seats' order (Order.items)
        .execution_options(yield_per=STREAM_BATCH)
    )

    def rows():
        last_order, last_seat = None, 0
        for batch in db.session.execute(query).partitions():
            checked_in = checkins.in_force(row[0] for row in batch)  # one query per batch, not per ticket
            for order_id, token, email, updated_at, name, quantity, unit_price, currency in batch:
                first = (last_seat if order_id == last_order else 0) + 1  # seats run on across the items
                last_order, last_seat = order_id, first + quantity - 1
                for seat in range(first, first + quantity):
                    at, device = checked_in.get((order_id, seat), (None, ""))
                    yield [tickets.code_for(order_id, seat, token), order_id, email, name, seat,
                           decimal_amount(unit_price, currency), currency, _iso(updated_at), _iso(at), device]

    return _csv_lines(["ticket", "order_id", "email", "ticket_type", "number_in_order", "price", "currency",
                       "updated_at", "checked_in_at", "checked_in_device"], rows())


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

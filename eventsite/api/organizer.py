"""What an organizer's token may read: its own events, their order counts, takings and orders."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import Event, Order, OrderItem, OrderStatus, Organizer, TicketType

ORDERS_PER_PAGE = 50


def own_event(organizer: Organizer, slug: str) -> Event:
    """Another organizer's event is as unknown as a missing one."""
    event = db.session.scalar(select(Event).where(Event.slug == slug, Event.organizer_id == organizer.id))
    if event is None:
        raise NotFound("There is no such event.")
    return event


def orders_by_status(event: Event) -> dict[str, int]:
    """Orders per stored status (a lapsed hold counts as reserved until the sweep expires it)."""
    counts = dict(db.session.execute(
        select(Order.status, func.count()).where(Order.event_id == event.id).group_by(Order.status)
    ).all())
    return {status.value: counts.get(status, 0) for status in OrderStatus}


def revenue(event: Event) -> dict[str, int]:
    """Confirmed takings per currency, in minor units, at the prices paid."""
    rows = db.session.execute(
        select(TicketType.currency, func.sum(OrderItem.quantity * OrderItem.unit_price))
        .join(OrderItem.ticket_type).join(OrderItem.order)
        .where(Order.event_id == event.id, Order.status == OrderStatus.CONFIRMED)
        .group_by(TicketType.currency)
    ).all()
    return {currency: int(amount) for currency, amount in rows}


@dataclass(frozen=True)
class OrdersPage:
    orders: list[Order]
    total: int
    has_next: bool


def orders_page(event: Event, *, status: OrderStatus | None, email: str | None, page: int) -> OrdersPage:
    """Newest first; ``email`` matches any part of the address, case-insensitively and literally."""
    criteria = [Order.event_id == event.id]
    if status:
        criteria.append(Order.status == status)
    if email:
        criteria.append(Order.email.icontains(email, autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(Order).where(*criteria))
    orders = db.session.scalars(
        select(Order).where(*criteria).order_by(Order.created_at.desc(), Order.id.desc())
        .options(selectinload(Order.items).selectinload(OrderItem.ticket_type))
        .limit(ORDERS_PER_PAGE).offset((page - 1) * ORDERS_PER_PAGE)
    )
    return OrdersPage(list(orders), total, page * ORDERS_PER_PAGE < total)

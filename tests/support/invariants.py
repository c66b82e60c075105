"""Checks shared by the core tests: what must hold for every ticket type at every instant."""
from sqlalchemy import func, select

from eventsite.domain.models import Order, OrderEvent, OrderItem, OrderStatus, TicketType
from eventsite.infra.db import db
from eventsite.readmodels import availability


def assert_never_oversold(event_id: int) -> None:
    """sold + held <= capacity, and the sold counter equals the confirmed order items."""
    figures = availability.figures(event_id)
    for tt in db.session.scalars(select(TicketType).where(TicketType.event_id == event_id)):
        f = figures[tt.id]
        assert f.sold + f.held <= f.capacity, f
        confirmed = db.session.scalar(
            select(func.coalesce(func.sum(OrderItem.quantity), 0))
            .join(Order).where(OrderItem.ticket_type_id == tt.id, Order.status == OrderStatus.CONFIRMED)
        )
        assert f.sold == confirmed, (f, confirmed)


def row_counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Order, OrderItem, OrderEvent))

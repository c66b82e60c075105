"""Keeping a hold for a submitted delayed payment (bank debit and the like)."""
from __future__ import annotations

from .. import inventory, orders
from ..clock import now
from ..models import HOLDING_STATUSES, Order, OrderStatus


def keep_for_pending_payment(order: Order) -> bool:
    """Inside the caller's write transaction, with ``order`` locked: may this
    order keep its tickets while its delayed payment is pending?

    A live hold simply stays. A hold that has just lapsed is revived only if
    its tickets are still free (checked under the ticket type locks, as when
    reserving): otherwise someone else may have them, and the payment's
    outcome goes through the late-payment rule instead.
    """
    if order.status not in HOLDING_STATUSES:
        return False
    at = now()
    if not inventory.holds_at(order, at):
        wanted = {item.ticket_type_id: item.quantity for item in order.items}
        inventory.lock_ticket_types(wanted)
        figures = inventory.availability(order.event_id, at=at, ticket_type_ids=list(wanted))
        if any(figures[tt_id].available < qty for tt_id, qty in wanted.items()):
            return False
    if order.status == OrderStatus.RESERVED:
        orders.transition(order, OrderStatus.PAYMENT_PROCESSING, reason="delayed payment submitted",
                          actor="system:payments")
    return True

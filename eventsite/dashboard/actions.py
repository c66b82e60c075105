"""What an organizer may do to an order: only moves the state machine allows.

Each action checks first and changes nothing when refused (409 with the reason).
"""
from __future__ import annotations

from .. import inventory, orders
from ..errors import Conflict
from ..payments.checkout import refund_order
from ..models import HOLDING_STATUSES, Order, OrderStatus


def organizer_actor(email: str) -> str:
    return f"organizer:{email}"


def _can_release(order: Order) -> bool:
    return order.status in HOLDING_STATUSES and orders.can_transition(order, OrderStatus.CANCELLED)


def _can_refund(order: Order) -> bool:
    return order.status == OrderStatus.CONFIRMED and orders.can_transition(order, OrderStatus.REFUNDED)


def allowed_actions(order: Order) -> list[str]:
    """The buttons the order page shows."""
    return [name for name, allowed in (("release", _can_release), ("refund", _can_refund)) if allowed(order)]


def release_hold(order: Order, *, actor: str) -> Order:
    if not _can_release(order):
        raise Conflict(f"Only a hold can be released; this order is {_said(order)}.")
    try:
        return inventory.release(order, actor=actor)
    except orders.IllegalTransition as moved:  # paid or lapsed between the page and the click
        raise Conflict(f"This order changed meanwhile and can no longer be released: {moved}") from moved


def refund(order: Order, *, actor: str):
    if not _can_refund(order):
        raise Conflict(f"Only a confirmed (paid) order can be refunded; this order is {_said(order)}.")
    return refund_order(order.id, actor)


def _said(order: Order) -> str:
    return order.status.value.replace("_", " ")

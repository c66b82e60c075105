"""What an organizer may do to an order: only moves the state machine allows,
judged on the order's effective status (a lapsed hold is expired, not releasable).

Each action checks first and changes nothing when refused (409 with the reason).
"""
from __future__ import annotations

from ..domain.clock import now
from ..domain.errors import N_, Conflict
from ..domain.holds import effective_status
from ..domain.models import HOLDING_STATUSES, Order, OrderStatus
from ..domain.state_machine import can_transition
from . import paying, reserving


def organizer_actor(email: str) -> str:
    return f"organizer:{email}"


def _can_release(order: Order) -> bool:
    status = effective_status(order, now())
    return status in HOLDING_STATUSES and can_transition(status, OrderStatus.CANCELLED)


def _can_refund(order: Order) -> bool:
    return order.status == OrderStatus.CONFIRMED and can_transition(order.status, OrderStatus.REFUNDED)


def allowed_actions(order: Order) -> list[str]:
    """The buttons the order page shows."""
    return [name for name, allowed in (("release", _can_release), ("refund", _can_refund)) if allowed(order)]


def release_hold(order: Order, *, actor: str) -> Order:
    if not _can_release(order):
        raise Conflict(N_("Only a hold can be released; this order is %(status)s."), status=_said(order))
    return reserving.release(order, actor=actor)


def refund(order: Order, *, actor: str):
    if not _can_refund(order):
        raise Conflict(N_("Only a confirmed (paid) order can be refunded; this order is %(status)s."),
                       status=_said(order))
    return paying.refund_order(order.id, actor)


def _said(order: Order) -> OrderStatus:
    return effective_status(order, now())

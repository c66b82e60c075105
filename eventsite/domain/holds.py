"""The hold rule and the effective status: the one answer to "does this order
hold tickets at instant t, and what is it, as shown at t?".

A hold counts while it has not lapsed (``expires_at > t``), or while a
submitted delayed payment (bank debit) awaits its outcome, for at most the
event's pending-payment limit (``pending_until > t``). From its expiry
instant a lapsed hold is *shown* as expired everywhere (pages, API, CSV,
figures, filters), whether or not a job has written ``expired`` yet.
Each rule has a Python form (one loaded order) and an SQL form (queries).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, or_

from .models import HOLDING_STATUSES, Order, OrderStatus


def holds_clause(at):
    """SQL: the order holds tickets at ``at`` (a datetime or a bound parameter)."""
    return and_(
        Order.status.in_(HOLDING_STATUSES),
        or_(Order.expires_at > at,
            # is_not(None) first: NULL > at is NULL, and NOT NULL would count a hold nobody set a limit for.
            and_(Order.status == OrderStatus.PAYMENT_PROCESSING, Order.payment_pending,
                 Order.pending_until.is_not(None), Order.pending_until > at)),
    )


def holds_at(order: Order, at: datetime) -> bool:
    """Python twin of ``holds_clause`` for one loaded order."""
    return order.status in HOLDING_STATUSES and (
        order.expires_at > at or (order.status == OrderStatus.PAYMENT_PROCESSING and order.payment_pending
                                  and order.pending_until is not None and order.pending_until > at)
    )


def hold_ends_at(order: Order) -> datetime:
    """When the hold stops counting unless something happens: its expiry, or the end of
    the time a submitted delayed payment may keep it."""
    if order.payment_pending and order.pending_until is not None:
        return max(order.expires_at, order.pending_until)
    return order.expires_at


def lapsed_at(order: Order, at: datetime) -> bool:
    """Still stored as a hold, but no longer holding: expired in all but the stored status."""
    return order.status in HOLDING_STATUSES and not holds_at(order, at)


def effective_status(order: Order, at: datetime) -> OrderStatus:
    """The status to show at ``at``: a lapsed hold is expired from its instant."""
    return OrderStatus.EXPIRED if lapsed_at(order, at) else order.status


def effective_status_clause(at):
    """SQL twin of ``effective_status``: the status value as shown at ``at``."""
    return case(
        (and_(Order.status.in_(HOLDING_STATUSES), ~holds_clause(at)), OrderStatus.EXPIRED.value),
        else_=Order.status,
    )


def effective_status_is(status: OrderStatus, at):
    """SQL: orders shown with ``status`` at ``at`` (a filter that agrees with every page)."""
    if status == OrderStatus.EXPIRED:
        return or_(Order.status == OrderStatus.EXPIRED, and_(Order.status.in_(HOLDING_STATUSES), ~holds_clause(at)))
    if status in HOLDING_STATUSES:
        return and_(Order.status == status, holds_clause(at))
    return Order.status == status

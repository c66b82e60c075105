"""Applying Stripe's Checkout events, each exactly once.

The event id is inserted (primary key) in the same transaction that applies
it, so a duplicate or a concurrent retry fails on the key and changes
nothing; an error rolls both back and Stripe delivers again. Events may come
late or out of order: each one only moves an order the state machine allows.
"""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from ..domain import locks
from ..domain.clock import now
from ..domain.models import HOLDING_STATUSES, Order, OrderStatus, WebhookEvent
from ..domain.state_machine import transition
from ..infra.db import db
from ..infra.transactions import write_transaction
from .paying import confirm_payment, keep_for_pending_payment, refund_later

log = logging.getLogger(__name__)

ACTOR = "stripe:webhook"
HANDLED = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}


class _Duplicate(Exception):
    pass


def apply_event(event) -> str:
    """Apply one verified event; returns what happened ("applied", "duplicate", "ignored").

    Any other failure propagates (the caller answers 5xx, Stripe delivers again)."""
    try:
        with write_transaction():
            db.session.add(WebhookEvent(id=event.id, type=event.type, received_at=now()))
            try:
                db.session.flush()  # a concurrent or earlier delivery holds this id
            except IntegrityError as error:
                raise _Duplicate from error
            if event.type not in HANDLED:
                return "ignored"
            refund_id = _apply_locked(event.type, event.data.object.to_dict(), ACTOR)
    except _Duplicate:
        return "duplicate"
    refund_later(refund_id)
    return "applied"


def apply_session(kind: str, session: dict, *, actor: str) -> None:
    """Apply what Stripe said about a session when we asked it (at hold expiry)."""
    with write_transaction():
        refund_id = _apply_locked(kind, session, actor)
    refund_later(refund_id)


def _apply_locked(kind: str, session: dict, actor: str) -> int | None:
    token = session.get("client_reference_id") or (session.get("metadata") or {}).get("order_token")
    order = locks.order_by_token(db.session, token)
    if order is None:
        log.warning("Stripe session %s names no known order", session.get("id"))
        return None
    if order.stripe_session_id is None:
        order.stripe_session_id = session["id"]
    return _apply(kind, session, order, actor)


def _apply(kind: str, session: dict, order: Order, actor: str) -> int | None:
    """Apply one event to its locked order; returns the order id if it must be refunded."""
    settled = order.status in (OrderStatus.CONFIRMED, OrderStatus.REFUNDED)
    if kind == "checkout.session.completed" and session.get("payment_status") != "paid":
        # A delayed method (bank debit) was submitted: keep the hold until its outcome.
        if not settled and keep_for_pending_payment(order):
            order.payment_pending = True
        return None
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if settled:
            return None  # applied already (through another event, or the check at expiry)
        order.payment_intent_id = session.get("payment_intent")
        order.payment_pending = False
        if confirm_payment(order.id, reason=f"paid ({kind})", actor=actor):
            order.payment_error = None
            return None
        order.payment_error = "Paid after the hold ended and no tickets were left: refunded automatically."
        return order.id
    if settled:
        return None
    if kind == "checkout.session.async_payment_failed":
        order.payment_pending = False
        order.payment_error = "Your bank payment did not go through."
        if order.status in HOLDING_STATUSES:
            transition(order, OrderStatus.EXPIRED, reason="delayed payment failed", actor=actor)
        return None
    # checkout.session.expired: no payment can start any more.
    if order.status in HOLDING_STATUSES and not order.payment_pending:
        transition(order, OrderStatus.EXPIRED, reason="checkout session expired", actor=actor)
    return None

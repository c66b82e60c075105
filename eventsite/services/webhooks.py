"""Applying Stripe's Checkout events, each exactly once.

The event id is inserted (primary key) in the same transaction that applies
it, so a duplicate or a concurrent retry fails on the key and changes
nothing; an error rolls both back and Stripe delivers again. Events may come
late or out of order: each one only moves an order the state machine allows.
"""
from __future__ import annotations

import logging

import stripe
from sqlalchemy.exc import IntegrityError

from ..domain import locks
from ..domain.clock import now
from ..domain.models import HOLDING_STATUSES, ObligationKind, Order, OrderStatus, WebhookEvent
from ..domain.obligations import promise
from ..domain.state_machine import transition
from ..gateways import stripe as gateway
from ..infra.db import db
from ..infra.transactions import write_transaction
from .paying import confirm_payment, keep_for_pending_payment

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
            _apply_locked(event.type, event.data.object.to_dict(), ACTOR)
    except _Duplicate:
        return "duplicate"
    return "applied"


def settle_session(session_id: str, *, actor: str) -> None:
    """Close a session at Stripe; if it was paid (or a delayed payment is pending)
    apply that first, so the payment wins over the expiry or release."""
    db.session.rollback()  # no transaction stays open across the network call
    try:
        session = gateway.expire_session(session_id)
    except stripe.InvalidRequestError:  # not open any more
        session = gateway.retrieve_session(session_id)
    if session.status == "complete":
        with write_transaction():
            _apply_locked("checkout.session.completed", session.to_dict(), actor)


def _apply_locked(kind: str, session: dict, actor: str) -> None:
    token = session.get("client_reference_id") or (session.get("metadata") or {}).get("order_token")
    order = locks.order_by_token(db.session, token)
    if order is None:
        log.warning("Stripe session %s names no known order", session.get("id"))
        return
    if order.stripe_session_id is None:
        order.stripe_session_id = session["id"]
    _apply(kind, session, order, actor)


def _apply(kind: str, session: dict, order: Order, actor: str) -> None:
    """Apply one event to its locked order (a refund it makes owed is promised with it)."""
    settled = order.status in (OrderStatus.CONFIRMED, OrderStatus.REFUNDED)
    if kind == "checkout.session.completed" and session.get("payment_status") != "paid":
        # A delayed method (bank debit) was submitted: keep the hold until its outcome.
        if not settled and keep_for_pending_payment(order):
            order.payment_pending = True
        return
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if settled:
            return  # applied already (through another event, or the check at expiry)
        order.payment_intent_id = session.get("payment_intent")
        # Confirm while a pending debit still keeps its hold: an on-time debit is no late payment.
        confirmed = confirm_payment(order.id, reason=f"paid ({kind})", actor=actor)
        order.payment_pending = False
        if confirmed:
            order.payment_error = None
            return
        order.payment_error = "Paid after the hold ended and no tickets were left: refunded automatically."
        promise(order, ObligationKind.REFUND_PAYMENT)
        return
    if settled:
        return
    if kind == "checkout.session.async_payment_failed":
        order.payment_pending = False
        order.payment_error = "Your bank payment did not go through."
        if order.status in HOLDING_STATUSES:
            transition(order, OrderStatus.EXPIRED, reason="delayed payment failed", actor=actor)
        return
    # checkout.session.expired: no payment can start any more.
    if order.status in HOLDING_STATUSES and not order.payment_pending:
        transition(order, OrderStatus.EXPIRED, reason="checkout session expired", actor=actor)

"""Applying Stripe's Checkout events, each exactly once.

The event id is inserted (primary key) in the same transaction that applies
it, so a duplicate or a concurrent retry fails on the key and changes
nothing; an error rolls both back and Stripe delivers again. Events may come
late or out of order: each one only moves an order the state machine allows.
"""
from __future__ import annotations

import logging

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..domain import locks
from ..domain.clock import now
from ..domain.errors import N_
from ..domain.models import HOLDING_STATUSES, ObligationKind, Order, OrderStatus, PaymentAnomaly, WebhookEvent
from ..domain.obligations import promise, promise_anomaly_refund
from ..domain.state_machine import transition
from ..gateways import stripe as gateway
from ..infra import metrics
from ..infra.db import db
from ..infra.transactions import write_transaction
from .paying import confirm_payment, keep_for_pending_payment

log = logging.getLogger(__name__)

ACTOR = "stripe:webhook"
CHECKOUT = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
# What happens to a payment afterwards, often in the provider's own dashboard.
AFTERWARDS = {"charge.refunded", "refund.updated", "charge.dispute.created"}
HANDLED = CHECKOUT | AFTERWARDS


class _Duplicate(Exception):
    pass


PAYING = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}


def malformed(event) -> str | None:
    """What a verified event lacks for us to read it, or None. Signed is not well formed: a
    signed event without its id or object is refused (4xx) rather than crashing on every retry."""
    event = event.to_dict()  # a StripeObject refuses dict methods; its plain form has them
    if not isinstance(event.get("id"), str) or not event.get("id"):
        return "The event has no id."
    if not isinstance(event.get("type"), str):
        return "The event has no type."
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return "The event has no data.object."
    if event["type"] in HANDLED and not isinstance(obj.get("id"), str):
        return "The event's object has no id."
    return None


def apply_event(event) -> str:
    """Apply one verified event; returns what happened ("applied", "duplicate", "ignored").

    Any other failure propagates (the caller answers 5xx, Stripe delivers again)."""
    outcome = _apply_event(event)
    metrics.WEBHOOK_OUTCOMES.labels(outcome).inc()
    return outcome


def _apply_event(event) -> str:
    session = event.data.object.to_dict()
    retrieved = _retrieve_if_unrecorded(event.type, session)
    try:
        with write_transaction():
            db.session.add(WebhookEvent(id=event.id, type=event.type, received_at=now()))
            try:
                db.session.flush()  # a concurrent or earlier delivery holds this id
            except IntegrityError as error:
                raise _Duplicate from error
            if event.type in AFTERWARDS:
                _apply_afterwards(event.type, session)
            elif event.type in CHECKOUT:
                _apply_locked(event.type, session, ACTOR, retrieved=retrieved)
            else:
                return "ignored"
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
            session = session.to_dict()
            _apply_locked("checkout.session.completed", session, actor, retrieved=session)


def _token(session: dict) -> str | None:
    return session.get("client_reference_id") or (session.get("metadata") or {}).get("order_token")


def _retrieve_if_unrecorded(kind: str, session: dict) -> dict | None:
    """An event for an order with no session recorded yet is believed only as far as
    the provider confirms it: the session retrieved by its id (before any lock)."""
    if kind not in CHECKOUT:
        return None
    recorded = db.session.scalar(select(Order.stripe_session_id).where(Order.token == _token(session)))
    db.session.rollback()  # no transaction stays open across the network call
    if recorded is not None:
        return None
    try:
        return gateway.retrieve_session(session["id"]).to_dict()
    except stripe.InvalidRequestError:  # no such session at the provider: not ours
        return None


def _apply_locked(kind: str, session: dict, actor: str, *, retrieved: dict | None) -> None:
    """Apply an event to the order it names, if its contents are the order's; otherwise
    record an anomaly for the organizer and give back any money it took."""
    order = locks.order_by_token(db.session, _token(session))
    problem = _mismatch(kind, session, order, retrieved) if order else ("unknown_order", "It names no known order.")
    if problem is None:
        if order.stripe_session_id is None:
            order.stripe_session_id = session["id"]
        _apply(kind, retrieved or session, order, actor)
        return
    log.warning("Stripe session %s does not match its order: %s", session.get("id"), problem[1])
    if kind not in PAYING:
        return  # an expiry or failure of a session that is not the order's changes nothing
    anomaly = PaymentAnomaly(order_id=order.id if order else None, session_id=str(session.get("id")),
                             kind=problem[0], detail=problem[1], payment_intent_id=session.get("payment_intent"))
    db.session.add(anomaly)
    # Money that belongs to no order goes back; a payment of another order's session is that order's.
    someones = db.session.scalar(select(Order.id).where(Order.stripe_session_id == anomaly.session_id))
    if anomaly.payment_intent_id and _took_money(kind, session) and someones is None:
        promise_anomaly_refund(db.session, anomaly)


def _apply_afterwards(kind: str, obj: dict) -> None:
    """A refund or a dispute of an order's payment, reported by the provider."""
    order = locks.order_by_payment_intent(db.session, obj.get("payment_intent"))
    if order is None:
        log.info("%s for payment %s, which is no order's: nothing to do", kind, obj.get("payment_intent"))
        return
    if kind == "charge.dispute.created":
        db.session.add(PaymentAnomaly(
            order_id=order.id, session_id=order.stripe_session_id or "", kind="dispute",
            payment_intent_id=order.payment_intent_id,
            detail=f"The buyer's bank disputes this payment ({obj.get('reason', 'no reason given')}): "
                   "respond at the payment provider."))
        return
    refund = ((obj.get("refunds") or {}).get("data") or [None])[0] if kind == "charge.refunded" else obj
    refunded = obj.get("amount_refunded", 0) if kind == "charge.refunded" else obj.get("amount", 0)
    if kind == "refund.updated" and obj.get("status") != "succeeded":
        return
    if refunded < order.total:
        db.session.add(PaymentAnomaly(
            order_id=order.id, session_id=order.stripe_session_id or "", kind="partial_refund",
            payment_intent_id=order.payment_intent_id,
            detail=f"{refunded} of {order.total} minor units were refunded at the payment provider."))
        return
    if order.status == OrderStatus.CONFIRMED:
        order.refund_id = order.refund_id or (refund or {}).get("id")
        transition(order, OrderStatus.REFUNDED, reason="refunded at the payment provider", actor=ACTOR)


def _took_money(kind: str, session: dict) -> bool:
    return kind == "checkout.session.async_payment_succeeded" or session.get("payment_status") == "paid"


def _mismatch(kind: str, session: dict, order: Order, retrieved: dict | None) -> tuple[str, str] | None:
    """(kind, what is wrong) if the event is not about this order's payment, else None."""
    if order.stripe_session_id is not None and order.stripe_session_id != session.get("id"):
        return "foreign_session", f"Session {session.get('id')} is not this order's session."
    if order.stripe_session_id is None and (retrieved is None or retrieved.get("id") != session.get("id")
                                            or _token(retrieved) != order.token):
        return "unknown_session", f"Session {session.get('id')} was not created for this order."
    if kind not in PAYING:
        return None
    paid = retrieved or session
    if paid.get("amount_total") != order.total:
        return "amount", f"It is for {paid.get('amount_total')} minor units; the order's total is {order.total}."
    if str(paid.get("currency", "")).lower() != order.currency.lower():
        return "currency", f"It is in {str(paid.get('currency')).upper()}; the order is in {order.currency}."
    if not paid.get("payment_intent"):
        return "no_payment_intent", "It names no payment, so nothing could ever be refunded."
    return None


def _apply(kind: str, session: dict, order: Order, actor: str) -> None:
    """Apply one event to its locked order (a refund it makes owed is promised with it)."""
    settled = order.status in (OrderStatus.CONFIRMED, OrderStatus.REFUNDED)
    if kind == "checkout.session.completed" and session.get("payment_status") != "paid":
        # A delayed method (bank debit) was submitted: keep the hold until its outcome.
        if not settled:
            keep_for_pending_payment(order)
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
        order.payment_error = N_("Paid after the hold ended and no tickets were left: refunded automatically.")
        promise(order, ObligationKind.REFUND_PAYMENT)
        return
    if settled:
        return
    if kind == "checkout.session.async_payment_failed":
        order.payment_pending = False
        order.payment_error = N_("Your bank payment did not go through.")
        if order.status in HOLDING_STATUSES:
            transition(order, OrderStatus.EXPIRED, reason="delayed payment failed", actor=actor)
        promise(order, ObligationKind.EMAIL_PAYMENT_FAILED)
        return
    # checkout.session.expired: no payment can start any more.
    if order.status in HOLDING_STATUSES and not order.payment_pending:
        transition(order, OrderStatus.EXPIRED, reason="checkout session expired", actor=actor)

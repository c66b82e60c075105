"""Paying for a hold: asking for a Checkout Session, recording it, refunding
late payments that found no capacity. Network calls never happen inside a
database transaction."""
from __future__ import annotations

import logging

import stripe
from sqlalchemy import select

from .. import jobs, orders
from ..clock import now
from ..errors import Conflict, PaymentProviderError
from ..extensions import db
from ..inventory import holds_at
from ..models import Order, OrderStatus
from ..transactions import write_transaction
from . import gateway

log = logging.getLogger(__name__)

PAYMENT_FAILED_MESSAGE = "We could not start the payment. Your tickets are still held; please try again."


def _locked(order_id: int) -> Order:
    return db.session.scalars(select(Order).where(Order.id == order_id).with_for_update()).one()


def request_payment(order: Order) -> None:
    """The buyer pressed "Pay now": queue the session job (inline without Redis)."""
    if order.stripe_session_id:
        return  # it has its session already: the page just goes there
    if order.status != OrderStatus.RESERVED or not holds_at(order, now()):
        raise Conflict("This hold has ended, so it can no longer be paid.")
    with write_transaction():
        _locked(order.id).payment_error = None
    jobs.enqueue(create_session, order.id)


def create_session(order_id: int) -> None:
    """RQ job: create the order's Checkout Session and move it to payment_processing.

    Idempotent: an order that already has a session is left alone, and the
    idempotency key makes a retried request return the session Stripe made."""
    order = db.session.get(Order, order_id)
    if order is None or order.stripe_session_id or order.status != OrderStatus.RESERVED:
        return
    status_page = f"/r/{order.token}/payment"
    params = gateway.checkout_params(order, success_path=status_page, cancel_path=status_page,
                                     now_ts=int(now().timestamp()))
    db.session.rollback()  # no transaction stays open across the network call
    try:
        session = gateway.create_checkout_session(params)
    except stripe.StripeError as error:
        log.warning("checkout session for order %s failed: %s", order_id, error)
        with write_transaction():
            _locked(order_id).payment_error = PAYMENT_FAILED_MESSAGE
        raise
    still_held = record_session(order_id, session.id, session.url)
    if not still_held:
        expire_quietly(session.id)


def record_session(order_id: int, session_id: str, url: str) -> bool:
    """Store the session; returns False if the hold ended meanwhile (session then to expire)."""
    with write_transaction():
        order = _locked(order_id)
        if order.stripe_session_id is None:
            order.stripe_session_id, order.checkout_url = session_id, url
        order.payment_error = None
        if order.status == OrderStatus.RESERVED and holds_at(order, now()):
            orders.transition(order, OrderStatus.PAYMENT_PROCESSING, reason="checkout session created",
                              actor="system:payments")
        return order.status == OrderStatus.PAYMENT_PROCESSING


def expire_quietly(session_id: str) -> None:
    try:
        gateway.expire_session(session_id)
    except stripe.InvalidRequestError:
        pass  # no longer open: completed (the webhook decides) or already expired


def owes_refund(order: Order) -> bool:
    """A late payment that found no capacity: the money goes back automatically."""
    return (order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED)
            and order.payment_intent_id is not None and order.refund_id is None)


def refundable(order: Order) -> bool:
    """A paid order an organizer may give back."""
    return order.status == OrderStatus.CONFIRMED and order.payment_intent_id is not None and order.refund_id is None


def refund_late_payment(order_id: int) -> None:
    """RQ job: a payment arrived for an order with no capacity left; give it back."""
    if _refund(order_id, due=owes_refund, reason="paid late with no capacity left", actor="system:payments"):
        log.info("order %s refunded automatically", order_id)


def refund_order(order_id: int, actor: str) -> Order:
    """An organizer refunds a confirmed order: Stripe first, then confirmed -> refunded."""
    order = _refund(order_id, due=refundable, reason="refunded by the organizer", actor=actor)
    if order is None:
        raise Conflict("Only a paid, not yet refunded order can be refunded.")
    return order


def _refund(order_id: int, *, due, reason: str, actor: str) -> Order | None:
    """Refund through Stripe with no transaction open, then record it in one transition.
    The idempotency key (from the order) makes a retried refund the same refund."""
    order = db.session.get(Order, order_id)
    if order is None or not due(order):
        return None
    payment_intent_id, token = order.payment_intent_id, order.token
    db.session.rollback()  # no transaction stays open across the network call
    try:
        refund = gateway.refund(payment_intent_id, token)
    except stripe.StripeError as error:
        message = f"The payment provider did not refund this order: {error.user_message or error}"
        raise PaymentProviderError(message) from error
    with write_transaction():
        order = _locked(order_id)
        if due(order):
            order.refund_id = refund.id
            orders.transition(order, OrderStatus.REFUNDED, reason=f"{reason}; refund {refund.id}", actor=actor)
    return order

"""Paying for a hold: the pay-start guard, the Checkout Session job, confirming
a payment (the late-payment rule), keeping a hold for a pending bank debit,
and refunds. Network calls never happen inside a database transaction."""
from __future__ import annotations

import logging
from datetime import timedelta

import stripe

from ..domain import capacity, locks
from ..domain.clock import now
from ..domain.errors import N_, Conflict, HoldExpired, NotReserved, PaymentProviderError
from ..domain.holds import holds_at, lapsed_at
from ..domain.models import HOLDING_STATUSES, ObligationKind, Order, OrderStatus, PaymentAnomaly
from ..domain.obligations import promise
from ..domain.state_machine import transition
from ..gateways import stripe as gateway
from ..infra import queue
from ..infra.db import db
from ..infra.transactions import write_transaction

log = logging.getLogger(__name__)

# Stored as order.payment_error (English, as marked): the pages translate it where they show it.
PAYMENT_FAILED_MESSAGE = N_("We could not start the payment. Your tickets are still held; please try again.")


def check_payable(order: Order) -> None:
    """The pay-start guard, for shop and API alike: a live hold may go to payment
    (again, if its checkout was left unfinished); anything else is refused."""
    if lapsed_at(order, now()):
        raise HoldExpired(N_("This hold has expired; reserve again."))
    resumable = order.status == OrderStatus.PAYMENT_PROCESSING and order.stripe_session_id
    if order.status != OrderStatus.RESERVED and not resumable:
        raise NotReserved(N_("This reservation is %(status)s; only a reserved one can go to payment."),
                          status=order.status.value)


def request_payment(order: Order) -> None:
    """The buyer pressed "Pay now": queue the session job (inline without Redis)."""
    check_payable(order)
    if order.stripe_session_id:
        return  # it has its session already: the page just goes there
    with write_transaction():
        locks.order(db.session, order.id).payment_error = None
    queue.enqueue("eventsite.tasks.create_session", order.id)


def create_session(order_id: int) -> None:
    """Create the order's Checkout Session and move it to payment_processing.

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
            locks.order(db.session, order_id).payment_error = PAYMENT_FAILED_MESSAGE
        raise
    record_session(order_id, session.id, session.url)


def record_session(order_id: int, session_id: str, url: str) -> bool:
    """Store the session; if the hold ended meanwhile, promise to close it again (returns False)."""
    with write_transaction():
        order = locks.order(db.session, order_id)
        if order.stripe_session_id is None:
            order.stripe_session_id, order.checkout_url = session_id, url
        order.payment_error = None
        if order.status == OrderStatus.RESERVED and holds_at(order, now()):
            transition(order, OrderStatus.PAYMENT_PROCESSING, reason="checkout session created",
                       actor="system:payments")
        if order.status != OrderStatus.PAYMENT_PROCESSING:
            promise(order, ObligationKind.EXPIRE_SESSION)
            return False
        return True


# --- a payment arrived ----------------------------------------------------------

def _wanted(order: Order) -> dict[int, int]:
    return {item.ticket_type_id: item.quantity for item in order.items}


def confirm_payment(order_id: int, *, reason: str, actor: str) -> bool:
    """Apply a successful payment. Returns True if the order is (now) confirmed,
    False if no capacity remained: the order is then expired/cancelled and the
    caller must refund it (outside this transaction: a network call).

    A live hold simply turns into a sale. A late payment (hold lapsed, expired
    or released) is confirmed only if the locked recheck finds room.
    """
    with write_transaction():
        order = locks.order(db.session, order_id)
        if order.status in (OrderStatus.CONFIRMED, OrderStatus.REFUNDED):
            return order.status == OrderStatus.CONFIRMED
        recheck = capacity.locked_recheck(db.session, order.event_id, _wanted(order))
        if not holds_at(order, recheck.at):
            if not recheck.fits:
                if order.status in HOLDING_STATUSES:
                    transition(order, OrderStatus.EXPIRED, reason="paid after the hold lapsed; no capacity left",
                               actor=actor)
                return False
            reason = f"{reason} (late payment; capacity remained)"
        transition(order, OrderStatus.CONFIRMED, reason=reason, actor=actor)
        return True


def keep_for_pending_payment(order: Order) -> bool:
    """Inside the caller's write transaction, with ``order`` locked: may this
    order keep its tickets while its delayed payment is pending (for at most the
    event's pending-payment limit, from now)?

    A live hold simply stays. A hold that has just lapsed is revived only if
    the locked recheck finds its tickets still free: otherwise someone else may
    have them, and the payment's outcome goes through the late-payment rule.
    """
    if order.status not in HOLDING_STATUSES:
        return False
    recheck = capacity.locked_recheck(db.session, order.event_id, _wanted(order))
    if order.payment_pending:  # told again (the check at expiry): the limit set at submission stands
        return holds_at(order, recheck.at)
    if not holds_at(order, recheck.at) and not recheck.fits:
        return False
    if order.status == OrderStatus.RESERVED:
        transition(order, OrderStatus.PAYMENT_PROCESSING, reason="delayed payment submitted",
                   actor="system:payments")
    order.payment_pending = True
    order.pending_until = recheck.at + timedelta(hours=order.event.pending_payment_hours)
    return True


# --- refunds ---------------------------------------------------------------------

def owes_refund(order: Order) -> bool:
    """A late payment that found no capacity: the money goes back automatically."""
    return (order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED)
            and order.payment_intent_id is not None and order.refund_id is None)


def refundable(order: Order) -> bool:
    """A paid order an organizer may give back."""
    return order.status == OrderStatus.CONFIRMED and order.payment_intent_id is not None and order.refund_id is None


def refund_late_payment(order_id: int) -> None:
    """A payment arrived for an order with no capacity left; give it back."""
    if _refund(order_id, due=owes_refund, reason="paid late with no capacity left", actor="system:payments"):
        log.info("order %s refunded automatically", order_id)


def refund_anomaly(anomaly_id: int) -> None:
    """Give back what a payment that matched no order took (idempotent at the provider)."""
    anomaly = db.session.get(PaymentAnomaly, anomaly_id)
    if anomaly is None or anomaly.refund_id or not anomaly.payment_intent_id:
        return
    intent = anomaly.payment_intent_id
    db.session.rollback()  # no transaction stays open across the network call
    refund = gateway.refund_payment_intent(intent, key=f"refund-anomaly-{intent}")
    with write_transaction():
        db.session.get(PaymentAnomaly, anomaly_id).refund_id = refund.id


def refund_order(order_id: int, actor: str) -> Order:
    """An organizer refunds a confirmed order: Stripe first, then confirmed -> refunded."""
    order = _refund(order_id, due=refundable, reason="refunded by the organizer", actor=actor)
    if order is None:
        raise Conflict(N_("Only a paid, not yet refunded order can be refunded."))
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
        raise PaymentProviderError(N_("The payment provider did not refund this order: %(reason)s"),
                                   reason=str(error.user_message or error)) from error
    with write_transaction():
        order = locks.order(db.session, order_id)
        if due(order):
            order.refund_id = refund.id
            transition(order, OrderStatus.REFUNDED, reason=f"{reason}; refund {refund.id}", actor=actor)
    return order

"""Ending lapsed holds: the per-order job at ``expires_at`` and the periodic sweep.

Availability never waits for either (a lapsed hold stops counting at its
instant); these only write down what already happened, after asking Stripe
about any open Checkout Session: a completed or pending payment wins.
"""
from __future__ import annotations

import logging

import stripe
from flask import current_app
from sqlalchemy import not_, or_, select

from .. import inventory, jobs, orders
from ..clock import now
from ..extensions import db
from ..models import HOLDING_STATUSES, Order, OrderStatus
from ..transactions import write_transaction
from . import gateway
from .checkout import refund_late_payment
from .webhooks import apply_session

log = logging.getLogger(__name__)
EXPIRY_JOB, SWEEP = "system:expiry-job", "system:sweep"


def settle_session(session_id: str, *, actor: str) -> None:
    """Close a lapsed hold's session at Stripe; if it was paid (or a delayed
    payment is pending) apply that first, so the payment wins over expiry."""
    db.session.rollback()  # no transaction stays open across the network call
    try:
        session = gateway.expire_session(session_id)
    except stripe.InvalidRequestError:  # not open any more
        session = gateway.retrieve_session(session_id)
    if session.status == "complete":
        apply_session("checkout.session.completed", session.to_dict(), actor=actor)


def expire_order(order_id: int) -> None:
    """RQ job scheduled at the hold's expiry."""
    order = db.session.get(Order, order_id)
    if order is None or order.status not in HOLDING_STATUSES or inventory.holds_at(order, now()):
        return
    if order.stripe_session_id:
        settle_session(order.stripe_session_id, actor=EXPIRY_JOB)
    inventory.expire_if_lapsed(order_id, actor=EXPIRY_JOB)


def sweep(batch_size: int | None = None) -> int:
    """Expire every lapsed hold in batched statements; returns how many.

    Safe to run twice at once: rows another sweep has locked are skipped, and
    expiring a session twice is harmless."""
    batch = batch_size or current_app.config["SWEEP_BATCH_SIZE"]
    at = now()
    lapsed = (Order.status.in_(HOLDING_STATUSES), not_(inventory.holds_clause(at)))
    settled = _settle_sessions(lapsed, batch)
    expirable = or_(Order.stripe_session_id.is_(None), Order.stripe_session_id.in_(settled))
    total = 0
    while True:
        with write_transaction():
            ids = orders.bulk_transition(
                orders.candidate_ids(*lapsed, expirable, limit=batch), OrderStatus.EXPIRED,
                from_statuses=HOLDING_STATUSES, reason="hold lapsed", actor=SWEEP, at=at)
        total += len(ids)
        if len(ids) < batch:
            break
    _retry_owed_refunds(batch)
    log.info("sweep expired %d lapsed holds", total)
    return total


def _settle_sessions(lapsed, batch: int) -> list[str]:
    session_ids = db.session.scalars(
        select(Order.stripe_session_id).where(*lapsed, Order.stripe_session_id.is_not(None))
        .order_by(Order.expires_at).limit(batch)
    ).all()
    settled = []
    for session_id in session_ids:
        try:
            settle_session(session_id, actor=SWEEP)
        except stripe.StripeError as error:
            log.warning("could not settle session %s (%s); its order waits for the next sweep", session_id, error)
        else:
            settled.append(session_id)
    return settled


def _retry_owed_refunds(batch: int) -> None:
    """A late payment with no capacity whose refund has not gone through yet."""
    owed = db.session.scalars(
        select(Order.id).where(Order.status.in_((OrderStatus.EXPIRED, OrderStatus.CANCELLED)),
                               Order.payment_intent_id.is_not(None), Order.refund_id.is_(None)).limit(batch)
    ).all()
    db.session.rollback()
    for order_id in owed:
        jobs.enqueue(refund_late_payment, order_id)

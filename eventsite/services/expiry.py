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

from ..domain import locks
from ..domain.clock import now
from ..domain.holds import holds_at, holds_clause, lapsed_at
from ..domain.models import HOLDING_STATUSES, Order, OrderStatus
from ..domain.state_machine import bulk_transition, candidate_ids, transition
from ..gateways import stripe as gateway
from ..infra import queue
from ..infra.db import db
from ..infra.transactions import write_transaction
from . import paying, webhooks

log = logging.getLogger(__name__)
EXPIRY_JOB, SWEEP = "system:expiry-job", "system:sweep"


def schedule_expiry(order: Order) -> None:
    """Run ``expire_order`` at the hold's expiry (RQ's scheduler, in workers started
    --with-scheduler). Without Redis only the sweep expires it, and availability
    is right meanwhile since it never counts a lapsed hold."""
    error = queue.enqueue_at(order.expires_at, "eventsite.tasks.expire_order", order.id,
                             job_id=f"expire-order-{order.id}")
    if error is not None:
        log.warning("Redis unavailable (%s); order %s will be expired by the sweep", error, order.id)


def settle_session(session_id: str, *, actor: str) -> None:
    """Close a lapsed hold's session at Stripe; if it was paid (or a delayed
    payment is pending) apply that first, so the payment wins over expiry."""
    db.session.rollback()  # no transaction stays open across the network call
    try:
        session = gateway.expire_session(session_id)
    except stripe.InvalidRequestError:  # not open any more
        session = gateway.retrieve_session(session_id)
    if session.status == "complete":
        webhooks.apply_session("checkout.session.completed", session.to_dict(), actor=actor)


def expire_order(order_id: int) -> None:
    """The job scheduled at the hold's expiry."""
    order = db.session.get(Order, order_id)
    if order is None or not lapsed_at(order, now()):
        return
    if order.stripe_session_id:
        settle_session(order.stripe_session_id, actor=EXPIRY_JOB)
    expire_if_lapsed(order_id, actor=EXPIRY_JOB)


def expire_if_lapsed(order_id: int, *, actor: str = "system:expiry") -> bool:
    """Mark one lapsed hold expired (availability already stopped counting it)."""
    with write_transaction():
        order = locks.order(db.session, order_id)
        if order.status not in HOLDING_STATUSES or holds_at(order, now()):
            return False
        return transition(order, OrderStatus.EXPIRED, reason="hold lapsed", actor=actor)


def sweep(batch_size: int | None = None) -> int:
    """Expire every lapsed hold in batched statements; returns how many.

    Safe to run twice at once: rows another sweep has locked are skipped, and
    expiring a session twice is harmless."""
    batch = batch_size or current_app.config["SWEEP_BATCH_SIZE"]
    at = now()
    lapsed = (Order.status.in_(HOLDING_STATUSES), not_(holds_clause(at)))
    settled = _settle_sessions(lapsed, batch)
    expirable = or_(Order.stripe_session_id.is_(None), Order.stripe_session_id.in_(settled))
    total = 0
    while True:
        with write_transaction():
            ids = bulk_transition(
                db.session, candidate_ids(*lapsed, expirable, limit=batch), OrderStatus.EXPIRED,
                from_statuses=HOLDING_STATUSES, reason="hold lapsed", actor=SWEEP, at=at)
        total += len(ids)
        if len(ids) < batch:
            break
    paying.retry_owed_refunds(batch)
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

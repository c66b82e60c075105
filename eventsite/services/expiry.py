"""Ending lapsed holds: the per-order job at ``expires_at`` and the periodic sweep.

Availability never waits for either (a lapsed hold stops counting at its
instant); these only write down what already happened, after asking Stripe
about any open Checkout Session: a completed or pending payment wins.
"""
from __future__ import annotations

import logging
import time

import stripe
from flask import current_app
from sqlalchemy import not_, or_, select

from ..domain import locks
from ..domain.clock import now
from ..domain.holds import holds_at, holds_clause, lapsed_at
from ..domain.models import HOLDING_STATUSES, Order, OrderStatus, SweepRun
from ..domain.state_machine import bulk_transition, candidate_ids, transition
from ..infra import metrics, queue
from ..infra.db import db
from ..infra.transactions import write_transaction
from . import obligations, waitlist, webhooks
from .expiry_timer import schedule_expiry

log = logging.getLogger(__name__)
EXPIRY_JOB, SWEEP = "system:expiry-job", "system:sweep"


def ensure_sweep() -> bool:
    """Register the periodic sweep if it is missing (after Redis lost its data, say):
    workers call it at start and every expiry job and sweep on its run. True if it was missing."""
    try:
        return queue.register_sweep(current_app.config["SWEEP_INTERVAL_SECONDS"], now(), replace=False)
    except queue.RedisError as error:
        log.warning("Redis unavailable (%s); the sweep is registered again once it is back", error)
        return False


def expire_order(order_id: int) -> None:
    """The job scheduled at the hold's expiry. A hold still live (the job came early,
    or a pending bank debit keeps it) gets its job again, at the end of its hold."""
    ensure_sweep()
    order = db.session.get(Order, order_id)
    if order is None or order.status not in HOLDING_STATUSES:
        return
    if not lapsed_at(order, now()):
        schedule_expiry(order, again=True)
        return
    if order.stripe_session_id:
        webhooks.settle_session(order.stripe_session_id, actor=EXPIRY_JOB)
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
    ensure_sweep()
    started = time.monotonic()
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
    offered = waitlist.serve_all()
    obligations.work_due(batch)
    with write_transaction():
        db.session.add(SweepRun(started_at=at, finished_at=now(), expired=total))
    metrics.SWEEP_RUNS.inc()
    metrics.SWEEP_EXPIRED.inc(total)
    metrics.SWEEP_SECONDS.observe(time.monotonic() - started)
    log.info("sweep expired %d lapsed holds and made %d waiting-list offers", total, offered)
    return total


def _settle_sessions(lapsed, batch: int) -> list[str]:
    session_ids = db.session.scalars(
        select(Order.stripe_session_id).where(*lapsed, Order.stripe_session_id.is_not(None))
        .order_by(Order.expires_at).limit(batch)
    ).all()
    settled = []
    for session_id in session_ids:
        try:
            webhooks.settle_session(session_id, actor=SWEEP)
        except stripe.StripeError as error:
            log.warning("could not settle session %s (%s); its order waits for the next sweep", session_id, error)
        else:
            settled.append(session_id)
    return settled

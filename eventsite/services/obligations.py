"""Doing what was promised: each obligation is claimed in a short transaction,
done with no transaction open (it calls the payment provider), then recorded.

Every action is idempotent at the provider (expiring a session twice is
harmless, a refund carries an idempotency key from the order), so a worker
killed mid-call is simply retried once its claim lapses: done once, never lost.
After each commit the transaction layer queues what was promised; the sweep
works off whatever is due, so losing Redis delays the work, never drops it.
"""
from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..domain.clock import now
from ..domain.models import Obligation, ObligationKind
from ..domain.obligations import LEASE, retry_delay, take_promised
from ..infra import metrics, queue, transactions
from ..infra.db import db
from ..infra.transactions import write_transaction
from . import emails, paying, webhooks

log = logging.getLogger(__name__)
ACTOR = "system:obligations"
TASK = "eventsite.tasks.work_obligation"


def _expire_session(obligation: Obligation) -> None:
    if session_id := obligation.order.stripe_session_id:
        webhooks.settle_session(session_id, actor=ACTOR)


def _refund_payment(obligation: Obligation) -> None:
    paying.refund_late_payment(obligation.order_id)


def _refund_anomaly(obligation: Obligation) -> None:
    paying.refund_anomaly(obligation.anomaly_id)


_ACTIONS = {ObligationKind.EXPIRE_SESSION: _expire_session, ObligationKind.REFUND_PAYMENT: _refund_payment,
            ObligationKind.REFUND_ANOMALY: _refund_anomaly,
            **dict.fromkeys(emails.SUBJECTS, emails.send)}


def _due(at):
    return (Obligation.done_at.is_(None), Obligation.due_at <= at,
            or_(Obligation.claimed_until.is_(None), Obligation.claimed_until <= at))


def work(obligation_id: int) -> bool:
    """Do one obligation if it is due and nobody holds it; True if it is now done."""
    at = now()
    with write_transaction():
        obligation = db.session.scalars(
            select(Obligation).where(Obligation.id == obligation_id, *_due(at)).with_for_update(skip_locked=True)
        ).one_or_none()
        if obligation is None:
            return False
        obligation.claimed_until = at + LEASE
        kind = obligation.kind
    try:
        _ACTIONS[kind](db.session.get(Obligation, obligation_id))
    except Exception as error:  # recorded and retried later: the promise stands
        log.warning("obligation %s (%s) failed: %s", obligation_id, kind.value, error)
        _record(obligation_id, error=error)
        metrics.OBLIGATIONS_WORKED.labels(kind.value, "failed").inc()
        return False
    _record(obligation_id, error=None)
    metrics.OBLIGATIONS_WORKED.labels(kind.value, "done").inc()
    return True


def _record(obligation_id: int, *, error: Exception | None) -> None:
    db.session.rollback()
    with write_transaction():
        obligation = db.session.scalars(select(Obligation).where(Obligation.id == obligation_id)
                                        .with_for_update()).one()
        obligation.attempts += 1
        obligation.claimed_until = None
        if error is None:
            obligation.done_at, obligation.last_error = now(), None
        else:
            obligation.last_error = str(error)[:2000] or type(error).__name__
            obligation.due_at = now() + retry_delay(obligation.attempts)
            retry_at, attempts = obligation.due_at, obligation.attempts
    if error is not None:  # prompt when due; the sweep does it anyway if this is lost
        queue.enqueue_at(retry_at, TASK, obligation_id, name=f"obligation-{obligation_id}-{attempts}")


def work_due(limit: int) -> int:
    """Do up to ``limit`` due obligations, oldest first (the sweep); returns how many were done."""
    ids = db.session.scalars(select(Obligation.id).where(*_due(now())).order_by(Obligation.due_at)
                             .limit(limit)).all()
    db.session.rollback()
    return sum(work(obligation_id) for obligation_id in ids)


def pending() -> list[Obligation]:
    """What is promised and not done yet, oldest first (operators, tests)."""
    return list(db.session.scalars(select(Obligation).where(Obligation.done_at.is_(None))
                                   .order_by(Obligation.due_at)))


def _prompt(session: Session) -> None:
    """After commit: queue each obligation just promised. Redis down: the sweep does it."""
    for obligation_id, kind in take_promised(session):
        queue_name = queue.MAIL if kind in emails.SUBJECTS else queue.DEFAULT
        queue.enqueue(TASK, obligation_id, inline=False, queue_name=queue_name)


def _forget(session: Session) -> None:
    take_promised(session)


def init_app() -> None:
    transactions.after_commit(_prompt, on_rollback=_forget)

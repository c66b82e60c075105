"""Promising work for later, in the caller's transaction (with the change that causes it).

A promise is made once per kind and order: making it again changes nothing.
Jobs do the work (``services.obligations``); the database remembers it.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from .clock import now as clock_now
from .models import Obligation, ObligationKind, Order, PaymentAnomaly, WaitlistEntry

# Retries back off from 10 s to an hour: a provider outage is waited out, not hammered.
FIRST_RETRY, LAST_RETRY = timedelta(seconds=10), timedelta(hours=1)
# How long a worker may take one before another may assume it died and retry.
LEASE = timedelta(minutes=5)


_PROMISED = "eventsite.promised_obligations"  # session.info: (id, kind) promised in this transaction


def promise(order: Order, kind: ObligationKind) -> Obligation:
    """Promise ``kind`` of work for ``order`` (the caller holds its lock), due now."""
    if order.id is None:
        object_session(order).flush()  # a new order: its id names the promise
    return _promise(object_session(order), f"{kind.value}:order:{order.id}", kind=kind, order_id=order.id)


def promise_anomaly_refund(session: Session, anomaly: PaymentAnomaly) -> Obligation:
    """Promise to give back what a payment that matched no order took (once per payment)."""
    session.flush()  # the anomaly's id
    return _promise(session, f"{ObligationKind.REFUND_ANOMALY.value}:{anomaly.payment_intent_id}",
                    kind=ObligationKind.REFUND_ANOMALY, order_id=anomaly.order_id, anomaly_id=anomaly.id)


def promise_message(session: Session, recipient: str,
                    kind: ObligationKind = ObligationKind.EMAIL_FIND_TICKETS, *, language: str = "en") -> Obligation:
    """Promise a message about no order ("find my tickets", sign-up) to ``recipient``
    (each request its own promise)."""
    return _promise(session, f"{kind.value}:{secrets.token_hex(12)}", kind=kind, recipient=recipient,
                    language=language)


def promise_about_entry(session: Session, entry: WaitlistEntry, kind: ObligationKind) -> Obligation:
    """Promise a message about a place on a waiting list (once per kind and place)."""
    return _promise(session, f"{kind.value}:entry:{entry.id}", kind=kind, waitlist_entry_id=entry.id,
                    recipient=entry.email)


def _promise(session: Session, key: str, **fields) -> Obligation:
    existing = session.scalar(select(Obligation).where(Obligation.key == key))
    if existing is not None:
        return existing
    obligation = Obligation(key=key, due_at=clock_now(), **fields)
    session.add(obligation)
    session.flush()  # its id, for whoever makes it prompt after the commit
    session.info.setdefault(_PROMISED, []).append((obligation.id, obligation.kind))
    return obligation


def take_promised(session: Session) -> list[tuple[int, ObligationKind]]:
    """The obligations (id, kind) promised since the last call (and forget them)."""
    return session.info.pop(_PROMISED, None) or []


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)

"""The job at each hold's end: scheduled when a hold is placed, renewed or offered."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ..domain.clock import now
from ..domain.holds import hold_ends_at
from ..domain.models import Order
from ..infra import queue

log = logging.getLogger(__name__)


def _whole_second_after(at: datetime) -> datetime:
    return at.replace(microsecond=0) + timedelta(seconds=1) if at.microsecond else at


def schedule_expiry(order: Order, *, again: bool = False) -> None:
    """Run ``expire_order`` at the hold's expiry (RQ's scheduler, in workers started
    --with-scheduler). RQ keeps whole seconds, so the time is rounded up: the job
    never runs before the instant. Without Redis only the sweep expires it, and
    availability is right meanwhile since it never counts a lapsed hold."""
    at = _whole_second_after(hold_ends_at(order))
    if again:  # the job came early: a strictly later second, so a job id of its own
        at = max(at, _whole_second_after(now())) + timedelta(seconds=1)
    error = queue.enqueue_at(at, "eventsite.tasks.expire_order", order.id,
                             name=f"expire-order-{order.id}-{int(at.timestamp())}")
    if error is not None:
        log.warning("Redis unavailable (%s); order %s will be expired by the sweep", error, order.id)

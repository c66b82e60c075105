"""RQ entry points: ids in, one service call. Services enqueue them by dotted
path (``eventsite.tasks.NAME``) through ``infra.queue``, so nothing below this
module imports it; the worker runs each inside the Flask app context."""
from __future__ import annotations

from .services import expiry, obligations, paying, waitlist


def create_session(order_id: int) -> None:
    paying.create_session(order_id)


def work_obligation(obligation_id: int) -> None:
    obligations.work(obligation_id)


def expire_order(order_id: int) -> None:
    expiry.expire_order(order_id)


def sweep() -> int:
    return expiry.sweep()


def serve_waitlist(ticket_type_id: int) -> None:
    waitlist.serve(ticket_type_id)

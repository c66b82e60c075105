"""Letting people in at the door: one scan, one answer; and the organizer's undo.

A scan is judged on the signed code alone first (forged or not, this event or not),
without a lock; only a real ticket of this event takes the order's row lock, so two
doors scanning the same ticket at once are answered one after the other: exactly one
``valid``, the other ``already``. The partial unique index on the seats in force is the
last line of defence. Nothing here talks to the network.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..domain import locks
from ..domain import tickets as codes
from ..domain.clock import now as clock_now
from ..domain.errors import N_, Conflict, InvalidRequest, NotFound
from ..domain.holds import effective_status
from ..domain.models import CheckIn, Event, Order, OrderStatus
from ..domain.rules import has_control_characters
from ..infra.db import db
from ..infra.transactions import write_transaction
from ..readmodels.tickets import secret

MAX_CODE_LENGTH = 200  # a code is 42 characters at most; anything longer is not worth reading
MAX_DEVICE_LENGTH = 100  # CheckIn.device
_MAX_ORDER_ID = 2**31 - 1  # PostgreSQL integer: a larger id names no order (and must not reach a query)


class Outcome(enum.StrEnum):
    VALID = "valid"
    ALREADY = "already"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    NOT_PAID = "not_paid"
    WRONG_EVENT = "wrong_event"
    FORGED = "forged"
    UNREADABLE = "unreadable"


# An order that is not confirmed admits nobody; its status says why.
_REFUSED = {OrderStatus.REFUNDED: Outcome.REFUNDED, OrderStatus.CANCELLED: Outcome.CANCELLED}


@dataclass(frozen=True)
class ScanResult:
    """Plain values, complete when the transaction ends (nothing is loaded afterwards)."""

    outcome: Outcome
    ticket_type: str | None = None
    seat: int | None = None
    order_id: int | None = None
    email: str | None = None
    order_status: OrderStatus | None = None  # refunded, cancelled, not_paid: what the order is
    checked_in_at: datetime | None = None  # valid: now; already: when it was let in
    device: str | None = None  # valid: this device; already: the one that let it in
    checkin_id: int | None = None


def check_in(event: Event, text: str, *, device: str, by: str) -> ScanResult:
    """Judge one scanned or typed ``text`` at ``event``'s door and, if it is a valid
    ticket not yet in, check it in. Bad input (no code, too long, a bad device name)
    raises InvalidRequest with nothing changed; every scan outcome is a result."""
    device = _device_name(device)
    parsed = codes.parse(_code_text(text))
    if parsed is None:
        return ScanResult(Outcome.UNREADABLE)
    # An unlocked read may tell a forgery: an order's token and items never change.
    order = db.session.get(Order, parsed.order_id) if parsed.order_id <= _MAX_ORDER_ID else None
    if order is None or not 1 <= parsed.seat <= order.quantity or not codes.signed_by(parsed, secret(), order.token):
        return ScanResult(Outcome.FORGED)
    if order.event_id != event.id:
        return ScanResult(Outcome.WRONG_EVENT)  # a real ticket, but which event it is for is not ours to say
    order_id, seat = order.id, parsed.seat
    try:
        with write_transaction():
            return _admit(locks.order(db.session, order_id), seat, device, by)
    except IntegrityError:
        # Another door got past its lock-free path at the same instant (the index caught it).
        return _already(order_id, seat)


def _admit(order: Order, seat_number: int, device: str, by: str) -> ScanResult:
    """Inside the transaction, with the order locked: the status and the seat decide."""
    seat = codes.seats(order)[seat_number - 1]
    facts = {"ticket_type": seat.ticket_type, "seat": seat_number, "order_id": order.id, "email": order.email}
    at = clock_now()  # after the lock: what the order is now, and when this seat came in
    status = effective_status(order, at)  # a lapsed hold reads expired, swept or not
    if status != OrderStatus.CONFIRMED:
        return ScanResult(_REFUSED.get(status, Outcome.NOT_PAID), order_status=status, **facts)
    earlier = _in_force(order.id, seat_number)
    if earlier is not None:
        return ScanResult(Outcome.ALREADY, checked_in_at=earlier.at, device=earlier.device,
                          checkin_id=earlier.id, **facts)
    checkin = CheckIn(event_id=order.event_id, order_id=order.id, seat=seat_number,
                      ticket_type_id=seat.ticket_type_id, at=at, device=device, by=by)
    db.session.add(checkin)
    db.session.flush()
    return ScanResult(Outcome.VALID, checked_in_at=checkin.at, device=device, checkin_id=checkin.id, **facts)


def _already(order_id: int, seat_number: int) -> ScanResult:
    order = db.session.get(Order, order_id)
    earlier = _in_force(order_id, seat_number)
    seat = codes.seats(order)[seat_number - 1]
    return ScanResult(Outcome.ALREADY, ticket_type=seat.ticket_type, seat=seat_number, order_id=order_id,
                      email=order.email, checked_in_at=earlier.at if earlier else None,
                      device=earlier.device if earlier else None, checkin_id=earlier.id if earlier else None)


def _in_force(order_id: int, seat: int) -> CheckIn | None:
    return db.session.scalar(select(CheckIn).where(
        CheckIn.order_id == order_id, CheckIn.seat == seat, CheckIn.undone_at.is_(None)))


def _code_text(text) -> str:
    if not isinstance(text, str) or not text:
        raise InvalidRequest(N_("Scan or type a ticket code."), field="code")
    if len(text) > MAX_CODE_LENGTH:
        raise InvalidRequest(N_("A ticket code has at most %(limit)s characters."), field="code", limit=MAX_CODE_LENGTH)
    return text


def _device_name(device) -> str:
    if device is None:
        return ""
    if not isinstance(device, str) or len(device) > MAX_DEVICE_LENGTH or has_control_characters(device):
        raise InvalidRequest(N_("Name this device in at most %(limit)s characters, on one line."),
                             field="device", limit=MAX_DEVICE_LENGTH)
    return device.strip()


def undo(checkin_id: int, *, by: str) -> CheckIn:
    """Take back a mistaken check-in: the row stays, stamped with who undid it and when,
    and the seat can be checked in again. Undoing twice is refused (409), nothing changed.
    The caller has made sure the check-in is of the organizer's own event."""
    with write_transaction(expire_on_commit=False):
        checkin = db.session.get(CheckIn, checkin_id)
        if checkin is None:
            raise NotFound(N_("There is no such check-in."))
        # The order's lock is the one a scan of the same seat takes: an undo and a re-scan queue up.
        locks.order(db.session, checkin.order_id)
        db.session.refresh(checkin)
        if checkin.undone_at is not None:
            raise Conflict(N_("This check-in was already undone."))
        checkin.undone_at = clock_now()
        checkin.undone_by = by
    return checkin

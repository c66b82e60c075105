"""Tickets: one per seat of a confirmed order, each with one signed code used everywhere
(confirmation page, email, printable ticket and PDF, attendee CSV, check-in).

A code is ``ES-<order id>-<seat>-<signature>``: the signature is an HMAC keyed with the
installation's secret over the order's unguessable token, so a code cannot be made up
from an order number, and the door can tell a forged code from a real one offline.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from .models import Order

_CODE = re.compile(r"ES-(\d{1,12})-(\d{1,6})-([0-9A-F]{16})")


@dataclass(frozen=True)
class Seat:
    number: int  # within the order, from 1
    ticket_type_id: int
    ticket_type: str


@dataclass(frozen=True)
class Ticket:
    seat: Seat
    code: str

    @property
    def number(self) -> int:
        return self.seat.number

    @property
    def ticket_type(self) -> str:
        return self.seat.ticket_type


@dataclass(frozen=True)
class ParsedCode:
    order_id: int
    seat: int
    signature: str


def seats(order: Order) -> list[Seat]:
    """Seats numbered in ticket type order (the items' order), the same every time."""
    types = [(item.ticket_type_id, item.ticket_type.name) for item in order.items for _ in range(item.quantity)]
    return [Seat(number, type_id, name) for number, (type_id, name) in enumerate(types, start=1)]


def _signature(secret: str, order_id: int, seat: int, token: str) -> str:
    message = f"{order_id}:{seat}:{token}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:16].upper()


def code(secret: str, order_id: int, seat: int, token: str) -> str:
    return f"ES-{order_id}-{seat}-{_signature(secret, order_id, seat, token)}"


def tickets(order: Order, secret: str) -> list[Ticket]:
    return [Ticket(seat, code(secret, order.id, seat.number, order.token)) for seat in seats(order)]


def parse(text: str) -> ParsedCode | None:
    """A typed or scanned code, or None when it is not shaped like one (spaces and case forgiven)."""
    match = _CODE.fullmatch(text.strip().upper())
    if match is None:
        return None
    return ParsedCode(int(match[1]), int(match[2]), match[3])


def signed_by(parsed: ParsedCode, secret: str, token: str) -> bool:
    return hmac.compare_digest(parsed.signature, _signature(secret, parsed.order_id, parsed.seat, token))

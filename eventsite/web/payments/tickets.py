"""One ticket per seat of a confirmed order, each with a code the door can verify and a QR code."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import segno
from flask import current_app

from ...domain.models import Order


@dataclass(frozen=True)
class Ticket:
    number: int
    ticket_type: str
    code: str

    @property
    def qr_data_uri(self) -> str:
        return segno.make(self.code, error="m").svg_data_uri(scale=4, border=2)


def ticket_code(order: Order, number: int) -> str:
    """``<order id>-<seat number>-<signature>``: the signature (keyed with
    SECRET_KEY, over the order's secret token) makes codes unforgeable."""
    message = f"{order.id}:{number}:{order.token}".encode()
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()[:16]
    return f"ES-{order.id}-{number}-{mac.upper()}"


def tickets(order: Order) -> list[Ticket]:
    seats = [item.ticket_type.name for item in order.items for _ in range(item.quantity)]
    return [Ticket(number, name, ticket_code(order, number)) for number, name in enumerate(seats, start=1)]

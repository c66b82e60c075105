"""The tickets of an order with their codes and QR codes, as every page, message and file shows them."""
from __future__ import annotations

import io

import segno
from flask import current_app

from ..domain import tickets as codes
from ..domain.models import Order, OrderStatus


def secret() -> str:
    return current_app.config["SECRET_KEY"]


def tickets(order: Order) -> list[codes.Ticket]:
    """One per seat, but only for a confirmed order: no other order admits anyone."""
    return codes.tickets(order, secret()) if order.status == OrderStatus.CONFIRMED else []


def code_for(order_id: int, seat: int, token: str) -> str:
    return codes.code(secret(), order_id, seat, token)


def qr_svg_data_uri(code: str) -> str:
    return segno.make(code, error="m").svg_data_uri(scale=4, border=2)


def qr_png(code: str, scale: int = 6) -> bytes:
    buffer = io.BytesIO()
    segno.make(code, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()

"""Shape checks for JSON bodies and query strings, before anything reaches the domain.

The domain still checks meaning (ticket types of this event, per-order limits,
sales windows, the email rule); here we only make sure the types are right,
nothing is missing, repeated or unknown, and report every bad field at once.
"""
from __future__ import annotations

import json
from typing import Any

from flask import request

from ...domain.errors import InvalidRequest
from ...domain.models import OrderStatus
from ...domain.rules import MAX_EMAIL_LENGTH, email_address, has_control_characters
from . import bp
from .errors import InvalidInput

MAX_ID = 2**31 - 1  # PostgreSQL integer
MAX_ITEMS = 20
MAX_PAGE = 100_000
MAX_DEPTH = 32  # no request of ours nests more than 3 levels
MAX_KEYS = 64  # keys of one object; ours have 2


@bp.before_request
def refuse_unreasonable_json():
    """Refuse a body no operation could want before anything validates it: nesting deep enough to
    exhaust the parser's recursion (a RecursionError, not a ValueError), or objects with so many keys
    that reporting each unknown one would cost more than the request."""
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return
    try:
        body = json.loads(request.get_data(cache=True))
    except RecursionError:
        raise InvalidInput({"body": f"JSON nested too deeply (at most {MAX_DEPTH} levels)."}) from None
    except ValueError:
        return  # not JSON: the operation says what it expected
    problem = _shape_problem(body)
    if problem:
        raise InvalidInput({"body": problem})


def _shape_problem(body: Any) -> str | None:
    pending = [(body, 1)]  # iterative: the depth is what is being checked
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return f"JSON nested too deeply (at most {MAX_DEPTH} levels)."
        if isinstance(value, dict):
            if len(value) > MAX_KEYS:
                return f"An object has {len(value)} keys; at most {MAX_KEYS} are accepted."
            pending.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            pending.extend((child, depth + 1) for child in value)
    return None


def _whole(value: Any) -> int | None:
    """An integer, also when JSON wrote it as 2.0 (JSON Schema calls that an integer too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _unknown(obj: dict, allowed: set[str], prefix: str, fields: dict[str, str]) -> None:
    for key in sorted(set(obj) - allowed):
        fields[f"{prefix}{key}"] = "Unknown field."


def reservation_request(body: Any) -> tuple[str, dict[int, int], str | None]:
    """``{"email", "items": [{"ticket_type_id", "quantity"}], "admission"?}`` -> (email,
    {ticket_type_id: quantity}, admission). Whether the admission is genuine is the room's to say."""
    if not isinstance(body, dict):
        raise InvalidInput({"body": "Send a JSON object with email and items."})
    fields: dict[str, str] = {}
    _unknown(body, {"email", "items", "admission"}, "", fields)
    email = _email(body.get("email"), fields)
    admission = body.get("admission")
    if admission is not None and not isinstance(admission, str):
        fields["admission"] = "Must be a string: the admission your place in the waiting room was given."
    items = body.get("items")
    quantities: dict[int, int] = {}
    if items is None:
        fields["items"] = "Required."
    elif not isinstance(items, list):
        fields["items"] = "Must be a list of {ticket_type_id, quantity} objects."
    elif not 1 <= len(items) <= MAX_ITEMS:
        fields["items"] = f"List between 1 and {MAX_ITEMS} ticket types."
    else:
        for index, item in enumerate(items):
            _item(item, f"items[{index}]", quantities, fields)
    if fields:
        raise InvalidInput(fields)
    return email, quantities, admission or None


def room_join_request(body: Any) -> str | None:
    """No body, or ``{"email"?}`` -> the email (one place per address), or None."""
    if not isinstance(body, dict):
        raise InvalidInput({"body": "Send no body, or a JSON object with an optional email."})
    fields: dict[str, str] = {}
    _unknown(body, {"email"}, "", fields)
    email = _email(body.get("email"), fields, required=False)
    if fields:
        raise InvalidInput(fields)
    return email


def waitlist_request(body: Any) -> tuple[int, int, str]:
    """``{"ticket_type_id", "quantity", "email"}`` -> (ticket_type_id, quantity, email)."""
    if not isinstance(body, dict):
        raise InvalidInput({"body": "Send a JSON object with ticket_type_id, quantity and email."})
    fields: dict[str, str] = {}
    _unknown(body, {"ticket_type_id", "quantity", "email"}, "", fields)
    email = _email(body.get("email"), fields)
    tt_id, quantity = _whole(body.get("ticket_type_id")), _whole(body.get("quantity"))
    if tt_id is None or not 1 <= tt_id <= MAX_ID:
        fields["ticket_type_id"] = "Required: a ticket type id (positive integer)."
    # More than the per-order limit is the waiting list's rule to explain, as for reservations.
    if quantity is None or quantity < 1:
        fields["quantity"] = "Required: a whole number of tickets, at least 1."
    if fields:
        raise InvalidInput(fields)
    return tt_id, quantity, email


def _email(email: Any, fields: dict[str, str], *, required: bool = True) -> str | None:
    """The email trimmed and normalized, as every entry point stores it; or a message in ``fields``."""
    if email is None:
        if required:
            fields["email"] = "Required."
    elif not isinstance(email, str):
        fields["email"] = "Must be a string."
    else:
        try:
            return email_address(email)
        except InvalidRequest as error:
            fields["email"] = error.message
    return None


def _item(item: Any, where: str, quantities: dict[int, int], fields: dict[str, str]) -> None:
    if not isinstance(item, dict):
        fields[where] = "Must be an object with ticket_type_id and quantity."
        return
    _unknown(item, {"ticket_type_id", "quantity"}, f"{where}.", fields)
    tt_id, quantity = _whole(item.get("ticket_type_id")), _whole(item.get("quantity"))
    if tt_id is None or not 1 <= tt_id <= MAX_ID:
        fields[f"{where}.ticket_type_id"] = "Required: a ticket type id (positive integer)."
    elif tt_id in quantities:
        fields[f"{where}.ticket_type_id"] = "This ticket type is listed twice."
    # Too many is the reservation's rule to explain ("At most 10 GA tickets per order"), not the shape's.
    if quantity is None or quantity < 1:
        fields[f"{where}.quantity"] = "Required: a whole number of tickets, at least 1."
    if f"{where}.ticket_type_id" not in fields and f"{where}.quantity" not in fields:
        quantities[tt_id] = quantity


def query(args, allowed: set[str], fields: dict[str, str] | None = None) -> None:
    """Refuse query parameters the operation does not know (a typo should not silently
    widen a filter)."""
    fields = {} if fields is None else fields
    for key in sorted(set(args) - allowed):
        fields[key] = "Unknown query parameter."
    if fields:
        raise InvalidInput(fields)


def availability_query(args) -> str | None:
    """``?reservation=TOKEN`` -> the viewer's token, if any."""
    token = args.get("reservation") or None
    bad = token and (len(token) > 200 or has_control_characters(token))
    fields = {"reservation": "A reservation token."} if bad else {}
    query(args, {"reservation"}, fields)
    return token


def orders_query(args) -> tuple[OrderStatus | None, str | None, int]:
    """``?status=&email=&page=`` -> (status, email fragment, page)."""
    fields: dict[str, str] = {}
    status = args.get("status") or None
    if status is not None and status not in {s.value for s in OrderStatus}:
        fields["status"] = "One of: " + ", ".join(s.value for s in OrderStatus) + "."
    email = args.get("email") or None
    if email is not None and (len(email) > MAX_EMAIL_LENGTH or has_control_characters(email)):
        fields["email"] = "At most 254 characters, no control characters."
    page_text = args.get("page", "1")
    page = int(page_text) if page_text.isascii() and page_text.isdigit() else 0
    if not 1 <= page <= MAX_PAGE:
        fields["page"] = f"A page number from 1 to {MAX_PAGE}."
    query(args, {"status", "email", "page"}, fields)
    return (OrderStatus(status) if status else None), email, page


def checkin_request(body: Any) -> tuple[str, str]:
    """``{"code", "device"?}`` -> (code, device); lengths and meaning are the service's to judge."""
    if not isinstance(body, dict):
        raise InvalidInput({"body": "Send a JSON object with code (and device)."})
    fields: dict[str, str] = {}
    _unknown(body, {"code", "device"}, "", fields)
    code, device = body.get("code"), body.get("device", "")
    if not isinstance(code, str) or not code:
        fields["code"] = "Required: the ticket code as scanned or typed."
    if not isinstance(device, str):
        fields["device"] = "Must be a string: the name of the scanning device."
    if fields:
        raise InvalidInput(fields)
    return code, device

"""Check-in fixtures: the world's tickets as their codes, and a scan as the door page posts it."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from dashboard_helpers import post

from eventsite.domain.models import Order
from eventsite.infra.db import db
from eventsite.readmodels import tickets

PANEL = re.compile(r'<div class="scan-result [^"]*" data-result="([a-z_]+)"[^>]*>(.*?)</div>', re.S)


@dataclass
class Answer:
    """What the organizer sees after a scan: the HTTP status, the panel's kind and its words."""

    status: int
    result: str
    text: str
    page: str


def answer(response) -> Answer:
    page = response.get_data(as_text=True)
    result, body = PANEL.search(page).groups()
    return Answer(response.status_code, result, " ".join(re.sub(r"<[^>]+>", " ", body).split()), page)


@pytest.fixture
def codes(app):
    """codes(order_id) -> the codes of its tickets; with ``seat``, the code any order's seat would carry."""

    def of(order_id: int, seat: int | None = None) -> list[str] | str:
        with app.app_context():
            order = db.session.get(Order, order_id)
            if seat is not None:
                return tickets.code_for(order.id, seat, order.token)
            return [ticket.code for ticket in tickets.tickets(order)]

    return of


@pytest.fixture
def scan():
    """scan(client, event_id, code, device) -> Answer, posted by htmx like the door page does."""

    def post_scan(client, event_id: int, code: str, device: str = "Door 1") -> Answer:
        return answer(post(client, f"/dashboard/events/{event_id}/checkin", {"code": code, "device": device},
                           headers={"HX-Request": "true"}))

    return post_scan

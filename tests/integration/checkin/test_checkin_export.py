"""The attendee CSV carries each ticket's one signed code and when and where it came in."""
from __future__ import annotations

import csv
import io

from dashboard_helpers import pay, reserve
from testenv import T0

from eventsite.domain.models import Order
from eventsite.infra.db import db
from eventsite.readmodels import tickets


def test_the_csv_has_the_tickets_codes_and_check_in_times(frozen, app, world, owner, scan, codes):
    ga, vip = world.ticket_type_ids
    with app.app_context():
        group = reserve(world.event_id, {vip: 1, ga: 2}, "group@example.test").id
        pay(group)
        issued = [(t.code, t.ticket_type, t.number) for t in tickets.tickets(db.session.get(Order, group))]
    assert [name for _, name, _ in issued] == ["GA", "GA", "VIP"]
    assert scan(owner, world.event_id, issued[2][0], "Door 1").result == "valid"

    text = owner.get(f"/dashboard/events/{world.event_id}/exports/attendees.csv").get_data(as_text=True)
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["order_id"] == str(group)]
    assert [(r["ticket"], r["ticket_type"], int(r["number_in_order"])) for r in rows] == issued
    assert [(r["checked_in_at"], r["checked_in_device"]) for r in rows] == [
        ("", ""), ("", ""), (T0.isoformat(timespec="seconds"), "Door 1")]

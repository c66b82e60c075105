"""One multi-ticket order: the codes in the email, the PDF, the attendee CSV and at the door are
the same codes, seat for seat, and each one lets its seat in."""
from __future__ import annotations

import csv
import io
import re

from dashboard_helpers import pay, reserve
from fixtures_mail import text_of
from tickets_support import pdf_strings

from eventsite.domain.models import Order
from eventsite.infra.db import db

CODE = re.compile(r"ES-\d+-\d+-[0-9A-F]{16}")


def test_email_pdf_csv_and_door_agree_on_every_code(app, world, owner, scan, inbox, run_jobs):
    ga, vip = world.ticket_type_ids
    with app.app_context():
        order = reserve(world.event_id, {vip: 1, ga: 2}, "group@example.test")
        order_id, token = order.id, order.token
        pay(order_id)
        assert db.session.get(Order, order_id).quantity == 3
    run_jobs("mail")

    [paid] = [m for m in inbox.to("group@example.test") if m["Subject"].startswith("Your tickets")]
    emailed = list(dict.fromkeys(CODE.findall(text_of(paid))))
    printed = [s for s in pdf_strings(owner.get(f"/r/{token}/tickets.pdf").data) if CODE.fullmatch(s)]
    exported = [row["ticket"] for row in csv.DictReader(io.StringIO(owner.get(
        f"/dashboard/events/{world.event_id}/exports/attendees.csv").get_data(as_text=True)))
        if row["order_id"] == str(order_id)]
    assert len(emailed) == 3 and emailed == printed == exported

    answers = [scan(owner, world.event_id, code) for code in emailed]
    assert [(a.result, a.text.split(" Let in")[0].split()[-1]) for a in answers] == [
        ("valid", "GA"), ("valid", "GA"), ("valid", "VIP")]

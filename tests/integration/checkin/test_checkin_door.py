"""The door page: every answer a scan can get, as the organizer sees it, and nothing let in twice."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dashboard_helpers import pay, post, reserve
from sqlalchemy import func, select
from testenv import T0

from eventsite.domain import locks
from eventsite.domain.models import CheckIn, Event, OrderStatus
from eventsite.domain.state_machine import transition
from eventsite.infra.db import db
from eventsite.infra.transactions import write_transaction
from eventsite.services import reserving


def checkins(app) -> list[tuple]:
    with app.app_context():
        return [(c.order_id, c.seat, c.device, c.by, c.undone_at is not None)
                for c in db.session.scalars(select(CheckIn).order_by(CheckIn.id))]


def test_a_paid_ticket_is_let_in_once_then_shown_as_already_in(frozen, app, world, owner, scan, codes):
    (code,) = codes(world.paid_order_id)
    first = scan(owner, world.event_id, code, "Door 1")
    assert (first.status, first.result) == (200, "valid")
    assert first.text.startswith("✓ VALID VIP") and "payer@example.test" in first.text
    # The counts beside the panel come along with the answer.
    assert re.search(r'data-row="VIP">\s*<th scope="row">VIP</th>\s*<td data-figure="checked-in">1</td>', first.page)

    frozen.advance(timedelta(minutes=7))
    again = scan(owner, world.event_id, code.lower(), "Door 2")  # typed in lower case: the same ticket
    assert (again.status, again.result) == (200, "already")
    assert again.text.startswith("⚠ ALREADY CHECKED IN VIP")
    assert "checked in at Mon 01 Jun, 12:00:00 UTC" in again.text and "by Door 1" in again.text
    assert checkins(app) == [(world.paid_order_id, 1, "Door 1", "owner@example.test", False)]


def test_the_event_page_links_the_door_and_counts_who_is_in(app, world, owner, scan, codes):
    page = owner.get(f"/dashboard/events/{world.event_id}").get_data(as_text=True)
    assert f'href="/dashboard/events/{world.event_id}/checkin"' in page
    scan(owner, world.event_id, codes(world.paid_order_id)[0])
    live = owner.get(f"/dashboard/events/{world.event_id}/live").get_data(as_text=True)
    vip = live.split('data-row="VIP"')[1]
    assert re.search(r'data-figure="checked-in">1 <small>of 1</small>', vip)


def test_orders_that_admit_nobody_say_why(frozen, app, world, owner, scan, codes):
    ga, vip = world.ticket_type_ids
    with app.app_context():
        refunded = reserve(world.event_id, {vip: 1}, "refunded@example.test").id
        pay(refunded)
        with write_transaction():
            transition(locks.order(db.session, refunded), OrderStatus.REFUNDED, reason="test", actor="test")
        released = reserving.release(reserve(world.event_id, {ga: 1}, "released@example.test"), actor="test").id
        lapsing = reserve(world.event_id, {ga: 1}, "lapsing@example.test").id
    frozen.advance(timedelta(minutes=16))  # the lapsing hold lapsed; no sweep ran

    cases = [(refunded, "refunded", "✕ REFUNDED", "order is refunded"),
             (released, "cancelled", "✕ CANCELLED", "order is cancelled"),
             (world.held_order_id, "not_paid", "✕ NOT PAID", "order is expired"),
             (lapsing, "not_paid", "✕ NOT PAID", "order is expired")]
    with app.app_context():
        live = reserve(world.event_id, {ga: 1}, "live@example.test").id
    cases.append((live, "not_paid", "✕ NOT PAID", "order is reserved"))
    for order_id, result, headline, reason in cases:
        shown = scan(owner, world.event_id, codes(order_id, seat=1))
        assert (shown.status, shown.result) == (200, result), order_id
        assert shown.text.startswith(headline) and reason in shown.text
    assert checkins(app) == []


def test_a_ticket_of_another_event_is_not_let_in_and_not_described(app, world, owner, scan, codes):
    with app.app_context():
        pay(world.other_order_id)
    shown = scan(owner, world.event_id, codes(world.other_order_id)[0])
    assert (shown.status, shown.result) == (200, "wrong_event")
    assert shown.text == "✕ NOT A TICKET OF THIS EVENT Do not let in: this ticket is not for Event owned."
    assert "theirs" not in shown.page and checkins(app) == []


def test_forged_codes_are_told_apart_from_unreadable_ones(app, world, owner, scan, codes):
    (real,) = codes(world.paid_order_id)
    tampered = real[:-1] + ("0" if real[-1] != "0" else "1")
    forged = [tampered,
              codes(world.paid_order_id, seat=2),  # signed right, but the order has one seat
              f"ES-{world.paid_order_id + 1000}-1-{real[-16:]}",  # no such order
              "ES-999999999999-1-0123456789ABCDEF"]  # beyond any order id
    for code in forged:
        shown = scan(owner, world.event_id, code)
        assert (shown.status, shown.result) == (200, "forged"), code
        assert shown.text.startswith("✕ FORGED")
    for text in ("hello", "https://example.com/ES-1-1", "ES-1-1-XYZ", "   "):
        shown = scan(owner, world.event_id, text)
        assert (shown.status, shown.result) == (200, "unreadable"), text
        assert shown.text.startswith("? UNREADABLE")
    assert checkins(app) == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"code": ""}, "Scan or type a ticket code."),
    ({"code": "ES-1-1-" + "A" * 200}, "A ticket code has at most 200 characters."),
    ({"device": "D" * 101}, "Name this device in at most 100 characters, on one line."),
    ({"device": "Door\n1"}, "Name this device in at most 100 characters, on one line."),
])
def test_bad_input_is_refused_with_nothing_changed(app, world, owner, scan, codes, snapshot, fields, message):
    before = snapshot()
    data = {"code": codes(world.paid_order_id)[0], "device": "Door 1", **fields}
    shown = scan(owner, world.event_id, data["code"], data["device"])
    assert (shown.status, shown.result, shown.text) == (422, "error", f"! {message}")
    assert snapshot() == before


def test_without_script_the_scan_answers_with_the_whole_page(world, owner, codes):
    response = post(owner, f"/dashboard/events/{world.event_id}/checkin",
                    {"code": codes(world.paid_order_id)[0], "device": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and ">Check-in at the door</h1>" in page
    assert 'data-result="valid"' in page and "unnamed device" in page


def test_undo_then_the_ticket_can_be_checked_in_again(frozen, app, world, owner, scan, codes):
    (code,) = codes(world.paid_order_id)
    first = scan(owner, world.event_id, code, "Door 1")
    checkin_id = int(re.search(r'data-checkin="(\d+)"', first.page).group(1))
    assert 'hx-confirm="Undo the check-in of VIP' in first.page

    frozen.advance(timedelta(minutes=1))
    undo = f"/dashboard/events/{world.event_id}/checkins/{checkin_id}/undo"
    undone = post(owner, undo, headers={"HX-Request": "true"})
    page = undone.get_data(as_text=True)
    assert undone.status_code == 200
    assert f"Check-in of VIP (order {world.paid_order_id}, seat 1) undone." in page
    assert "undone 12:01:00 UTC by owner@example.test" in page
    assert re.search(r'data-row="VIP">\s*<th scope="row">VIP</th>\s*<td data-figure="checked-in">0</td>', page)

    again = scan(owner, world.event_id, code, "Door 2")
    assert again.result == "valid"
    assert checkins(app) == [(world.paid_order_id, 1, "Door 1", "owner@example.test", True),
                             (world.paid_order_id, 1, "Door 2", "owner@example.test", False)]
    with app.app_context():
        assert db.session.scalar(select(CheckIn.undone_by).where(CheckIn.id == checkin_id)) == "owner@example.test"

    # Undoing the same check-in twice is refused, nothing changed; without script it is a redirect.
    assert post(owner, undo).status_code == 409
    second = int(re.search(r'data-checkin="(\d+)"', again.page).group(1))
    response = post(owner, f"/dashboard/events/{world.event_id}/checkins/{second}/undo")
    assert response.status_code == 302 and response.location.endswith(f"/events/{world.event_id}/checkin")
    assert [row[-1] for row in checkins(app)] == [True, True]


def test_another_organizer_cannot_open_scan_or_undo(app, world, owner, other, scan, codes, snapshot):
    (code,) = codes(world.paid_order_id)
    scan(owner, world.event_id, code)
    with app.app_context():
        checkin_id = db.session.scalar(select(func.max(CheckIn.id)))
    before = snapshot()
    base = f"/dashboard/events/{world.event_id}"
    assert other.get(f"{base}/checkin").status_code == 404
    assert other.get(f"{base}/checkin/status").status_code == 404
    assert post(other, f"{base}/checkin", {"code": code, "device": "x"}).status_code == 404
    assert post(other, f"{base}/checkins/{checkin_id}/undo").status_code == 404
    # Nor through their own event: the check-in is not theirs.
    assert post(other, f"/dashboard/events/{world.other_event_id}/checkins/{checkin_id}/undo").status_code == 404
    # And the owner cannot undo it through the other's event either.
    assert post(owner, f"/dashboard/events/{world.other_event_id}/checkins/{checkin_id}/undo").status_code == 404
    assert snapshot() == before
    # Scanning the owner's ticket at their own door tells them nothing about it.
    assert scan(other, world.other_event_id, code).result == "wrong_event"


def test_the_door_page_works_on_a_phone_sized_page_with_our_script(world, owner):
    page = owner.get(f"/dashboard/events/{world.event_id}/checkin").get_data(as_text=True)
    assert '<video id="scanner-video" muted playsinline></video>' in page
    assert "/static/vendor/qr-scanner.umd.min.js" in page and "/static/checkin.js" in page
    assert "<script>" not in page  # no inline script
    assert 'name="csrf_token"' in page and 'data-result="idle"' in page and "Nobody checked in yet." in page


def test_time_is_shown_in_the_event_time_zone(frozen, app, world, owner, scan, codes):
    with app.app_context():
        db.session.get(Event, world.event_id).timezone = "Europe/Berlin"
        db.session.commit()
    (code,) = codes(world.paid_order_id)
    scan(owner, world.event_id, code)
    assert T0.hour == 12
    assert "checked in at Mon 01 Jun, 14:00:00 CEST" in scan(owner, world.event_id, code).text

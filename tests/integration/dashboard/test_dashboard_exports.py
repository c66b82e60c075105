"""CSV exports: attendees (one row per ticket of a paid order) and orders, streamed."""
from __future__ import annotations

import csv
import io

from dashboard_helpers import pay, reserve


def rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_attendees_one_row_per_paid_ticket(app, world, owner):
    ga, vip = world.ticket_type_ids
    with app.app_context():
        group = reserve(world.event_id, {ga: 3, vip: 1}, "=1+1@example.test").id
        pay(group)
    response = owner.get(f"/dashboard/events/{world.event_id}/exports/attendees.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="owned-attendees.csv"'
    attendees = rows(response)
    # The world's paid order (1 VIP) and the group (3 GA + 1 VIP); the world's hold is not an attendee.
    # Seats are numbered across the order, in ticket type order, as on the tickets themselves.
    assert [(a["order_id"], a["ticket_type"], a["number_in_order"]) for a in attendees] == [
        (str(world.paid_order_id), "VIP", "1"),
        (str(group), "GA", "1"), (str(group), "GA", "2"), (str(group), "GA", "3"), (str(group), "VIP", "4")]
    assert [a["ticket"].rsplit("-", 1)[0] for a in attendees] == [
        f"ES-{world.paid_order_id}-1", f"ES-{group}-1", f"ES-{group}-2", f"ES-{group}-3", f"ES-{group}-4"]
    assert {(a["checked_in_at"], a["checked_in_device"]) for a in attendees} == {("", "")}
    assert attendees[1]["email"] == "'=1+1@example.test"  # a spreadsheet shows it, never runs it
    assert attendees[1]["price"] == "10.00" and attendees[0]["price"] == "50.00"


def test_orders_export_has_every_order_with_totals(app, world, owner):
    response = owner.get(f"/dashboard/events/{world.event_id}/exports/orders.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="owned-orders.csv"'
    by_id = {int(r["order_id"]): r for r in rows(response)}
    assert set(by_id) == {world.held_order_id, world.paid_order_id}
    held, paid = by_id[world.held_order_id], by_id[world.paid_order_id]
    assert (held["status"], held["tickets"], held["total"], held["currency"]) == ("reserved", "2", "20.00", "EUR")
    assert (paid["status"], paid["tickets"], paid["total"], paid["email"]) == (
        "confirmed", "1", "50.00", "payer@example.test")


def test_exports_of_an_event_without_orders_have_just_the_header(app, world, owner, make_event):
    event_id, _ = make_event(slug="quiet", organizer_email="owner@example.test")
    for name, first_column in (("attendees", "ticket"), ("orders", "order_id")):
        text = owner.get(f"/dashboard/events/{event_id}/exports/{name}.csv").get_data(as_text=True)
        assert text.splitlines() == [text.splitlines()[0]] and text.startswith(first_column + ",")

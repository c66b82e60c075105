"""The tickets as files: the PDF (one page per ticket, each code and its QR code) and the calendar
entry (in the event's time zone, linking back to the tickets)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from tickets_support import ENDS, STARTS, TITLE, VENUE, pdf_pages, pdf_strings, pdftotext

from eventsite.domain.models import Event, Order, OrderStatus
from eventsite.infra.db import db
from eventsite.readmodels import calendar, ticket_pdf
from eventsite.services import reserving

NEW_YORK = ZoneInfo("America/New_York")


def test_pdf_has_one_page_per_ticket_with_exactly_the_orders_codes(confirmed, buyer):
    response = buyer.http.get(f"{buyer.url}/r/{confirmed.token}/tickets.pdf", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=gala-tickets.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    data = response.content
    assert data.startswith(b"%PDF-") and pdf_pages(data) == 3
    assert [s for s in pdf_strings(data) if s.startswith("ES-")] == confirmed.codes
    assert data.count(b"/Subtype /Image") == 3  # a QR code on every page
    shown = pdftotext(data)
    for number, kind in enumerate(["GA", "GA", "VIP"], start=1):
        page = shown.split("\f")[number - 1]
        assert f"Ticket {number} of 3" in page and TITLE in page and VENUE in page and kind in page
        assert "Sun 15 Dec 2030, 19:30 EST (America/New_York)" in page and "Ends 22:00 EST" in page
        assert "Issued to buyer@example.test" in page and confirmed.codes[number - 1] in page


def test_pdf_without_a_unicode_font_writes_latin_1(app, gala, monkeypatch, tmp_path):
    """Where DejaVu is not installed, core fonts write the title in Latin-1 instead of failing on it."""
    monkeypatch.setattr(ticket_pdf, "FONT_DIR", tmp_path)
    event_id, (ga, _vip) = gala
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.title = "Zürich — Live 🎵"
        order = reserving.reserve(event.slug, {ga: 1}, "ann@example.test")
        order.status = OrderStatus.CONFIRMED  # not committed: only the renderer is under test here
        data = ticket_pdf.tickets_pdf(order)
        db.session.rollback()
    assert data.startswith(b"%PDF-") and pdf_pages(data) == 1
    assert b"DejaVu" not in data and b"/Helvetica" in data
    assert "Zürich - Live ?" in pdf_strings(data)


def test_calendar_entry_is_in_the_events_zone_and_links_the_tickets(confirmed, buyer):
    response = buyer.http.get(f"{buyer.url}/r/{confirmed.token}/calendar.ics", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=gala.ics"
    assert response.headers["Cache-Control"] == "no-store"

    parsed = icalendar.Calendar.from_ical(response.content)
    assert str(parsed["VERSION"]) == "2.0" and str(parsed["PRODID"]) == calendar.PRODID
    assert [tz["TZID"] for tz in parsed.walk("VTIMEZONE")] == ["America/New_York"]
    [entry] = parsed.walk("VEVENT")
    assert entry["DTSTART"].params["TZID"] == "America/New_York"
    assert entry.decoded("DTSTART") == STARTS.astimezone(NEW_YORK)
    assert entry.decoded("DTSTART").strftime("%Y-%m-%d %H:%M") == "2030-12-15 19:30"
    assert entry.decoded("DTEND") == ENDS.astimezone(NEW_YORK)
    assert str(entry["SUMMARY"]) == TITLE and str(entry["LOCATION"]) == VENUE
    assert str(entry["UID"]) == f"order-{confirmed.id}-event-1@127.0.0.1" and "DTSTAMP" in entry
    tickets_url = f"{buyer.url}/r/{confirmed.token}/tickets"
    assert str(entry["URL"]) == tickets_url
    assert str(entry["DESCRIPTION"]) == f"3 tickets (2 × GA, 1 × VIP).\nYour tickets: {tickets_url}"
    # The link in the calendar opens the tickets.
    assert confirmed.codes[0] in buyer.http.get(tickets_url, timeout=5).text


def test_calendar_entry_of_an_event_without_an_end_lasts_two_hours(app, gala):
    event_id, (ga, _vip) = gala
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.ends_at, event.venue = None, ""
        order = reserving.reserve(event.slug, {ga: 1}, "ann@example.test")
        entry = icalendar.Calendar.from_ical(calendar.event_ics(db.session.get(Order, order.id))).walk("VEVENT")[0]
        db.session.rollback()
    assert entry.decoded("DTEND") - entry.decoded("DTSTART") == timedelta(hours=2)
    assert "LOCATION" not in entry
    assert isinstance(entry.decoded("DTSTART"), datetime)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_calendar_entry_start_is_the_same_instant_in_any_zone(app, gala, zone):
    event_id, (ga, _vip) = gala
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.timezone = zone
        order = reserving.reserve(event.slug, {ga: 1}, "ann@example.test")
        entry = icalendar.Calendar.from_ical(calendar.event_ics(order)).walk("VEVENT")[0]
        db.session.rollback()
    assert entry.decoded("DTSTART") == STARTS

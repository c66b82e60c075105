"""Emails, the tickets PDF, the calendar file and the payment pages in German: an order placed in
German is written to in German (subject and body, dates in the event's zone, money as a German reader
writes it), whatever the language of whoever triggers the message; an English order stays English."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import icalendar
from fixtures_mail import attachment, html_of, text_of
from tickets_support import pdftotext

from eventsite.domain.models import Event, Order
from eventsite.infra.db import db
from eventsite.readmodels import tickets
from eventsite.services import paying, reserving

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
BUYER = "kunde@example.test"
# Sun 20 Dec 2026, 19:30 to 22:00 in New York.
STARTS, ENDS = datetime(2026, 12, 21, 0, 30, tzinfo=UTC), datetime(2026, 12, 21, 3, 0, tzinfo=UTC)
WHEN_DE = "So., 20. Dez. 2026, 19:30 EST (America/New_York) – bis 22:00 EST"
WHEN_EN = "Sun 20 Dec 2026, 19:30 EST (America/New_York) – until 22:00 EST"


def flat(text: str) -> str:
    """What a reader sees: tags gone, every run of whitespace (no-break spaces too) one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def _event(app, make_event) -> tuple[str, int]:
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5, "price": 2500}, slug="jazz")
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.title, event.venue = "Jazz Night", "Blue Hall, 1 Main St"
        event.starts_at, event.ends_at, event.timezone = STARTS, ENDS, "America/New_York"
        db.session.commit()
    return "jazz", ga


def _reserve(app, slug: str, ga: int, language: str) -> tuple[int, str]:
    with app.app_context():
        order = reserving.reserve(slug, {ga: 1}, BUYER, language=language)
        return order.id, order.token


def _pay(app, order_id: int) -> list[str]:
    with app.app_context():
        assert paying.confirm_payment(order_id, reason="paid", actor="test")
        return [t.code for t in tickets.tickets(db.session.get(Order, order_id))]


def test_a_german_order_gets_its_hold_and_its_tickets_in_german_with_pdf_and_calendar(
        app, frozen, make_event, inbox, run_jobs):
    slug, ga = _event(app, make_event)
    order_id, token = _reserve(app, slug, ga, "de")
    run_jobs("mail")

    [hold] = inbox.to(BUYER)
    assert hold["Subject"] == "Für Sie reserviert: Jazz Night"
    body, html = flat(text_of(hold)), flat(html_of(hold))
    assert "Für Sie reserviert." in body and f"Wann: {WHEN_DE}" in body and "Wo: Blue Hall, 1 Main St" in body
    # The hold ends 15 minutes after T0 (12:00 UTC on 1 June 2026): 08:15 in New York's summer time.
    assert ("Diese Tickets sind bis Mo., 1. Juni 2026, 08:15 EDT (America/New_York) für Sie reserviert. "
            "Bezahlen Sie bis dahin") in body
    assert "1 × GA 25,00 €" in body and "Gesamt: 25,00 €" in body and "Ihre Reservierung: http" in body
    assert '<html lang="de">' in html_of(hold) and "Zu Ihrer Reservierung" in html and WHEN_DE in html
    assert "Sie erhalten diese Nachricht, weil diese Adresse bei eventsite angegeben wurde." in html
    assert "Reserved" not in body and "Total" not in body and "until" not in body

    inbox.clear()
    codes = _pay(app, order_id)
    run_jobs("mail")
    [paid] = inbox.to(BUYER)
    assert paid["Subject"] == "Ihre Tickets für Jazz Night"
    body, html = flat(text_of(paid)), flat(html_of(paid))
    assert body.startswith("Zahlung erhalten. Sie sind dabei!") and "Gesamt: 25,00 €" in body
    assert f"Ticket 1 von 1, GA: {codes[0]}" in body and "Ihre Tickets online: http" in body
    assert f'alt="QR-Code für Ticket {codes[0]}"' in html_of(paid) and "PDF herunterladen" in html
    # The text part's links keep their German labels aligned.
    assert re.search(r"^Ausdrucken: {10}http\S+/r/\S+/tickets\r?$", text_of(paid), re.M)

    pdf = pdftotext(attachment(paid, "jazz-tickets.pdf"))
    assert "Ticket 1 von 1" in pdf and "So., 20. Dez. 2026, 19:30 EST (America/New_York)" in pdf
    assert "Ende: 22:00 EST" in pdf and f"Ausgestellt für {BUYER}" in pdf and codes[0] in pdf
    assert "Zeigen Sie diesen Code beim Einlass vor" in pdf and "Issued" not in pdf

    [entry] = icalendar.Calendar.from_ical(attachment(paid, "jazz.ics")).walk("VEVENT")
    assert str(entry["DESCRIPTION"]).startswith("1 Ticket (1 × GA).\nIhre Tickets: http")


def test_an_english_order_stays_english_even_if_paid_while_a_german_page_is_open(
        app, client, frozen, make_event, inbox, run_jobs):
    slug, ga = _event(app, make_event)
    order_id, token = _reserve(app, slug, ga, "en")
    assert "noch nicht bezahlt" in client.get(f"/r/{token}/payment", headers=GERMAN).text  # a German page between
    run_jobs("mail")
    _pay(app, order_id)
    run_jobs("mail")

    hold, paid = inbox.to(BUYER)
    assert hold["Subject"] == "Reserved for you: Jazz Night" and paid["Subject"] == "Your tickets for Jazz Night"
    assert f"When: {WHEN_EN}" in flat(text_of(hold)) and "Total: €25.00" in flat(text_of(hold))
    assert '<html lang="en">' in html_of(paid) and "Payment received. You're going!" in flat(text_of(paid))
    pdf = pdftotext(attachment(paid, "jazz-tickets.pdf"))
    assert "Ticket 1 of 1" in pdf and "Sun 20 Dec 2026, 19:30 EST" in pdf and "Ends 22:00 EST" in pdf


def test_the_payment_pages_and_the_printable_tickets_in_german(app, client, frozen, make_event):
    slug, ga = _event(app, make_event)
    order_id, token = _reserve(app, slug, ga, "en")  # the page speaks the reader's language, not the order's

    unpaid = flat(client.get(f"/r/{token}/payment", headers=GERMAN).text)
    assert "Diese Bestellung ist noch nicht bezahlt. Zurück zu Ihrer Reservierung" in unpaid
    preparing = flat(client.get(f"/r/{token}/pay", headers=GERMAN).text)
    assert "Zahlung wird vorbereitet …" in preparing
    assert "Wir öffnen eine sichere Zahlungsseite für Ihr 1 Ticket." in preparing
    no_tickets = flat(client.get(f"/r/{token}/tickets", headers=GERMAN).text)
    assert "Für diese Bestellung gibt es (noch) keine Tickets" in no_tickets

    codes = _pay(app, order_id)
    response = client.get(f"/r/{token}/payment?session_id=cs_x", headers=GERMAN)
    page = flat(response.text)
    assert f"Zahlung erhalten. Sie sind dabei! Bestellung bestätigt für {BUYER}." in page
    assert WHEN_DE in page and "Gesamt 25,00 €" in page and "Ticket 1 von 1: GA" in page
    assert "Tickets drucken" in page and "Zum Kalender hinzufügen (.ics)" in page
    assert f'alt="QR-Code für Ticket {codes[0]}"' in response.text
    assert "Payment received" not in page
    english = flat(client.get(f"/r/{token}/payment?session_id=cs_x").text)
    assert "Payment received. You're going!" in english and "Total €25.00" in english

    printable = flat(client.get(f"/r/{token}/tickets", headers=GERMAN).text)
    assert "Ihre Tickets für Jazz Night" in printable and "Ticket 1 von 1" in printable
    assert f"Ausgestellt für {BUYER}" in printable and "Zurück zu Ihrer Bestellung" in printable
    pdf = pdftotext(client.get(f"/r/{token}/tickets.pdf", headers=GERMAN).data)
    assert "Ticket 1 von 1" in pdf and "Ende: 22:00 EST" in pdf

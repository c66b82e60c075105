"""The organizer's dashboard in German: the login page, the event list, an event's page with its live
figures, an order's page and forms refused with their reasons, as a German reader sees them (words,
dates with their zone, numbers, money); English beside them on the same pages."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from dashboard_helpers import csrf_token, pay, reserve

from eventsite.domain.models import Event
from eventsite.infra.db import db

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
# Sun 20 Dec 2026, 19:30 in New York.
STARTS = datetime(2026, 12, 21, 0, 30, tzinfo=UTC)


def text(html: str) -> str:
    """What a reader sees: tags gone, every run of whitespace (no-break spaces too) one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def german_post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client), **data}, headers=GERMAN)


def cell(html: str, row: str, figure: str) -> str:
    match = re.search(rf'data-row="{row}">.*?data-figure="{figure}">(.*?)</td>', html, re.S)
    assert match, f"no {figure} in row {row}"
    return text(match.group(1))


@pytest.fixture
def concert(app, frozen, world, make_event):
    """The owner's event in New York: 1500 seats at 25.50 €, one hold of two, one paid order of one."""
    event_id, (stalls,) = make_event({"name": "Parkett", "capacity": 1500, "price": 2550}, slug="konzert",
                                     organizer_email="owner@example.test", timezone="America/New_York")
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.starts_at, event.title = STARTS, "Konzert"
        db.session.commit()
        held = reserve(event_id, {stalls: 2}, "halter@example.test").id
        paid = reserve(event_id, {stalls: 1}, "zahler@example.test").id
        pay(paid)
    return event_id, stalls, held, paid


def test_the_login_page_and_a_wrong_password_in_german(app):
    client = app.test_client()
    page = text(client.get("/dashboard/login", headers=GERMAN).get_data(as_text=True))
    assert "Anmeldung für Veranstalter" in page and "Noch kein Konto? Registrieren ." in page
    assert "E-Mail" in page and "Passwort" in page
    assert "Organizer log in" in client.get("/dashboard/login").get_data(as_text=True)  # English without the header

    refused = german_post(client, "/dashboard/login", {"email": "nobody@example.test", "password": "wrong password"})
    assert refused.status_code == 401 and "E-Mail oder Passwort ist falsch." in refused.get_data(as_text=True)

    sent_away = client.get("/dashboard/", headers=GERMAN, follow_redirects=True)
    assert "Bitte melden Sie sich an, um Ihre Veranstaltungen zu sehen." in sent_away.get_data(as_text=True)


def test_the_event_list_in_german(concert, owner):
    page = text(owner.get("/dashboard/", headers=GERMAN).get_data(as_text=True))
    assert "Meine Veranstaltungen" in page and "Neue Veranstaltung" in page and "Veröffentlicht" in page
    assert "So., 20. Dez. 2026, 19:30 EST America/New_York" in page


def test_an_events_live_figures_in_german(concert, owner):
    event_id, _stalls, _held, _paid = concert
    html = owner.get(f"/dashboard/events/{event_id}", headers=GERMAN).get_data(as_text=True)
    page = text(html)
    assert "Aktuelle Zahlen Stand" in page and "Ticketarten" in page and "Veranstaltung bearbeiten" in page
    assert "Parkett: 25,50 €, höchstens 10 pro Bestellung, im Verkauf, bis Sie die Veröffentlichung zurücknehmen" \
        in page
    assert 'data-label="Verkauft"' in html and ">Gesamt</th>" in html
    assert cell(html, "Parkett", "capacity") == "1.500"
    assert cell(html, "Parkett", "available") == "1.497"
    assert cell(html, "Parkett", "revenue") == "25,50 €"
    assert cell(html, "Parkett", "conversion") == "50,0 %"
    assert cell(html, "Parkett", "checked-in") == "0 von 1"
    assert "Verkaufte, reservierte und abgelaufene Tickets im Zeitverlauf" in page

    english = owner.get(f"/dashboard/events/{event_id}").get_data(as_text=True)
    assert "Live figures" in english and cell(english, "Parkett", "revenue") == "€25.50"
    assert cell(english, "Parkett", "capacity") == "1,500" and cell(english, "Parkett", "conversion") == "50.0 %"


def test_an_order_in_german(concert, owner):
    event_id, _stalls, held, paid = concert
    orders = text(owner.get(f"/dashboard/events/{event_id}/orders", headers=GERMAN).get_data(as_text=True))
    assert "2 Bestellungen. Zeiten in America/New_York." in orders and "bestätigt" in orders
    assert "Jeder Status" in orders and "Keine Bestellung" not in orders

    html = owner.get(f"/dashboard/events/{event_id}/orders/{paid}", headers=GERMAN).get_data(as_text=True)
    page = text(html)
    assert f"Bestellung {paid} bestätigt" in page and "Käufer zahler@example.test" in page
    # T0, 2026-06-01 12:00 UTC, in New York.
    assert "Aufgegeben Mo., 1. Juni 2026, 08:00 EDT America/New_York" in page
    assert "Positionen" in page and "Parkett 1 25,50 € 25,50 €" in page and "Gesamt 25,50 €" in page
    assert "Bestellung erstatten" in page and 'hx-confirm="25,50\xa0€ an zahler@example.test erstatten?' in html

    hold = owner.get(f"/dashboard/events/{event_id}/orders/{held}", headers=GERMAN).get_data(as_text=True)
    assert "reserviert</span>" in hold and "Diese Reservierung freigeben? Ihre 2 Ticket(s)" in hold


def test_forms_refused_in_german(concert, owner, snapshot):
    event_id, stalls, _held, _paid = concert
    path = f"/dashboard/events/{event_id}/ticket-types/new"
    before = snapshot()
    refused = german_post(owner, path, {"name": "Balkon", "price": "", "capacity": "-1", "per_order_limit": "4"})
    page = text(refused.get_data(as_text=True))
    assert refused.status_code == 422 and snapshot() == before
    assert "Neue Ticketart" in page and "Preis" in page and "Kapazität" in page
    assert "Geben Sie einen Preis ein (0 für kostenlose Tickets)." in page
    assert "Die Kapazität ist eine Zahl ab 0." in page
    assert "Preise in EUR, der Währung der Veranstaltung; Zeiten in ihrer Zeitzone, America/New_York." in page

    # A domain refusal (the capacity below what is sold and held) and one of the password rules, said in German.
    too_small = german_post(owner, f"/dashboard/events/{event_id}/ticket-types/{stalls}/edit",
                            {"name": "Parkett", "price": "25.50", "capacity": "1", "per_order_limit": "10"})
    assert too_small.status_code == 409 and "Die Kapazität kann nicht unter 3 sinken: Derzeit sind 1 verkauft und 2 " \
        "reserviert." in text(too_small.get_data(as_text=True))
    wrong = german_post(owner, "/dashboard/password", {"current_password": "not it", "new_password": "x" * 12})
    assert wrong.status_code == 422 and "Das ist nicht Ihr aktuelles Passwort." in wrong.get_data(as_text=True)

    added = german_post(owner, path, {"name": "Balkon", "price": "10", "capacity": "50", "per_order_limit": "4"})
    assert added.status_code == 302
    flashed = owner.get(added.headers["Location"], headers=GERMAN).get_data(as_text=True)
    assert "Ticketart „Balkon“ hinzugefügt." in flashed

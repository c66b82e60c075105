"""The shop's buying pages in German: the event list, an event's ticket lines, a reservation with its
countdown, a refused reservation and "find my tickets", as a German reader sees them (words, dates,
money); English beside them where the words are the same page's."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from shop_support import HX, buyer, csrf_from, hold_for_other  # noqa: F401 (fixtures)

from eventsite.domain.models import Event
from eventsite.infra.db import db
from eventsite.readmodels import lookups
from eventsite.services import paying

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
# Sun 20 Dec 2026, 19:30 to 22:00 in New York.
STARTS, ENDS = datetime(2026, 12, 21, 0, 30, tzinfo=UTC), datetime(2026, 12, 21, 3, 0, tzinfo=UTC)


def status_line(html: str, tt_id: int) -> str:
    match = re.search(rf'id="status-{tt_id}">(.*?)</p>', html, re.S)
    assert match, f"no status line for ticket type {tt_id}"
    return re.sub(r"<[^>]+>", "", " ".join(match.group(1).split()))


def text(html: str) -> str:
    """What a reader sees: tags gone, every run of whitespace (no-break spaces too) one space."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def _in_new_york(app, event_id: int) -> None:
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.starts_at, event.ends_at, event.timezone = STARTS, ENDS, "America/New_York"
        db.session.commit()


def test_the_event_list_in_german_says_the_sales_status_and_the_lowest_price(client, frozen, make_event):
    make_event({"name": "GA", "capacity": 5, "price": 2500}, {"name": "VIP", "capacity": 2, "price": 7500})
    make_event({"name": "GA", "capacity": 5, "sales_start": frozen.now() + timedelta(days=2)}, slug="later")
    make_event({"name": "GA", "capacity": 5, "sales_end": frozen.now()}, slug="closed")
    german = client.get("/", headers=GERMAN).text
    assert "ab 25,00\xa0€" in german  # the lowest of several prices, as a German reader writes it
    badges = dict(re.findall(r'class="badge badge-([\w-]+)">([^<]+)<', german))
    assert badges == {"on-sale": "Im Verkauf", "coming-soon": "Demnächst", "sales-closed": "Verkauf beendet"}
    assert "<h1>Veranstaltungen</h1>" in german and "Meine Tickets finden" in german
    english = client.get("/").text
    assert "from €25.00" in english and 'badge-on-sale">On sale<' in english


def test_the_event_page_in_german_dates_and_ticket_lines(app, client, frozen, make_event, hold_for_other):
    event_id, (ga, vip, balcony) = make_event(
        {"name": "GA", "capacity": 10, "price": 2500}, {"name": "VIP", "capacity": 1, "price": 7500},
        {"name": "Balcony", "capacity": 1, "price": 5000})
    _in_new_york(app, event_id)
    hold_for_other(event_id, {vip: 1})  # all reserved, back when that hold lapses
    sold = hold_for_other(event_id, {balcony: 1}, email="paid@example.test")
    with app.app_context():
        paying.confirm_payment(lookups.order_by_token(sold).id, reason="paid", actor="test")
    page = client.get("/events/rush", headers=GERMAN).text
    assert "So., 20. Dez. 2026, 19:30 EST" in page
    assert status_line(page, ga) == "10 Tickets verfügbar"
    assert status_line(page, vip) == "Alle übrigen Tickets sind reserviert – schauen Sie in 15:00 wieder vorbei"
    assert status_line(page, balcony) == "Ausverkauft"
    assert "25,00\xa0€" in page and "75,00\xa0€" in page
    assert "Anzahl für GA" in text(page) and ">Reservieren</button>" in page
    assert "Auf die Warteliste für Balcony" in text(page)  # sold out: the waiting list is offered
    # The polled fragment speaks the same language, announcement included.
    fragment = client.get("/events/rush/availability", headers={**HX, **GERMAN}).text
    assert "Verfügbarkeit aktualisiert. GA: 10 Tickets verfügbar." in text(fragment)
    assert status_line(client.get("/events/rush").text, ga) == "10 tickets available"


def test_the_reservation_page_in_german_with_its_countdown(app, buyer, frozen, make_event):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5, "price": 2500})
    _in_new_york(app, event_id)
    page = buyer.open_event().text
    placed = buyer.http.post("/events/rush/reserve", headers=GERMAN, data={
        "csrf_token": csrf_from(page), "email": "anna@example.test", f"qty-{ga}": "2"})
    location = placed.headers["Location"]
    german = buyer.http.get(location, headers=GERMAN).text
    words = text(german)
    assert "<title>Für Sie reserviert · Event rush · eventsite</title>" in german
    assert "Ihre Tickets für Event rush" in words
    assert "Für Sie reserviert (läuft ab in 15:00)" in words
    assert "So., 20. Dez. 2026, 19:30 EST (America/New_York) – bis 22:00 EST" in words
    assert re.search(r">Gesamt</th><td[^>]*><strong>50,00\xa0€<", german)
    assert "Die Tickets gehen an anna@example.test." in words
    # What static/renewal.js announces, in the page's language.
    assert 'data-minutes-left="Noch {minutes} Minuten, um Ihre Tickets zu bezahlen."' in german
    assert 'data-last-minute="Nur noch weniger als eine Minute, um Ihre Tickets zu bezahlen."' in german
    frozen.advance(timedelta(minutes=12))  # 3:00 left: more time is offered
    offer = text(buyer.http.get(f"{location}/status", headers={**HX, **GERMAN}).text)
    assert "Brauchen Sie mehr Zeit?" in offer and "Meine Tickets 5 weitere Minuten behalten" in offer
    english = text(buyer.http.get(location).text)
    assert "Reserved for you (expires in 03:00)" in english and "Sun 20 Dec 2026, 19:30 EST" in english
    frozen.advance(timedelta(minutes=3))
    lapsed = text(buyer.http.get(location, headers=GERMAN).text)
    assert "Ihre Reservierung ist abgelaufen" in lapsed and "Erneut versuchen: 2 Tickets reservieren" in lapsed


def test_a_refused_reservation_says_why_in_german(buyer, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    page = buyer.open_event().text  # fetched while the last ticket was still there
    hold_for_other(event_id, {ga: 1})
    refused = buyer.http.post("/events/rush/reserve", headers={**HX, **GERMAN},
                              data={"csrf_token": csrf_from(page), "email": "anna@example.test", f"qty-{ga}": "1"})
    assert refused.status_code == 409
    assert text(refused.text) == ("Nicht reserviert: Andere Käufer waren bei diesen Tickets schneller. "
                                  "Die Angaben oben sind aktuell; bitte wählen Sie erneut.")
    junk = buyer.http.post("/events/rush/reserve", headers={**HX, **GERMAN},
                           data={"csrf_token": csrf_from(page), "email": "anna@example.test", f"qty-{ga}": "zwei"})
    assert junk.status_code == 422 and "Bitte wählen Sie eine ganze Zahl von Tickets." in text(junk.text)
    english = buyer.http.post("/events/rush/reserve", headers=HX,
                              data={"csrf_token": csrf_from(page), "email": "anna@example.test", f"qty-{ga}": "x"})
    assert "Choose a whole number of tickets." in text(english.text)


def test_someone_who_already_holds_tickets_is_told_in_german(buyer, frozen, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 5})
    location = buyer.reserve({ga: 1}, email="anna@example.test").headers["Location"]
    again = buyer.http.post("/events/rush/reserve", headers={**HX, **GERMAN}, data={
        "csrf_token": csrf_from(buyer.open_event().text), "email": "anna@example.test", f"qty-{ga}": "1"})
    assert again.status_code == 409
    assert "Sie haben für diese Veranstaltung bereits Tickets reserviert: Ihre Reservierung." in text(again.text)
    assert f'href="{location}" data-existing-hold' in again.text


def test_find_my_tickets_in_german(client):
    form = client.get("/tickets", headers=GERMAN).text
    assert "<title>Meine Tickets finden · eventsite</title>" in form
    assert "Link verloren? Geben Sie die E-Mail-Adresse ein" in form and ">Meine Tickets senden</button>" in form
    sent = client.post("/tickets", headers=GERMAN, data={"csrf_token": csrf_from(form), "email": "anna@example.test"})
    assert sent.status_code == 200
    assert "<h1>Sehen Sie in Ihrem Posteingang nach</h1>" in sent.text
    assert "Falls es Bestellungen für anna@example.test gibt" in text(sent.text)
    assert "<h1>Check your inbox</h1>" in client.post("/tickets", data={"csrf_token": csrf_from(form),
                                                                         "email": "ben@example.test"}).text

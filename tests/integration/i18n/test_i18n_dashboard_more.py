"""The dashboard's waiting room, waiting lists and door check-in in German: the room's settings
page and its figures, the waiting lists and one line's places, the page that asks before closing a
line, the door page, its scan answers ("Einlassen" / "Nicht einlassen") and its latest check-ins,
as a German organizer reads them (words, dates, money, durations); English beside them."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dashboard_helpers import add_organizer, pay, post, reserve, sign_in
from room_support import ON_SALE

from eventsite.domain.models import Event, Order
from eventsite.infra.db import db
from eventsite.readmodels import tickets
from eventsite.readmodels.room_figures import readable
from eventsite.services import reserving, waiting_room, waitlist

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ROOM = re.compile(r'<section id="waiting-room".*?</section>', re.S)
FIGURE = re.compile(r'data-figure="([a-z0-9-]+)">(.*?)</(?:dd|span|p)>', re.S)
CARD = re.compile(r'<article class="line" data-line="([^"]+)">(.*?)</article>', re.S)
PLACE = re.compile(r'<tr data-place="([^"]+)">(.*?)</tr>', re.S)
COLUMN = re.compile(r'data-col="([a-z]+)">(.*?)</td>', re.S)
PANEL = re.compile(r'<div class="scan-result [^"]*" data-result="([a-z_]+)"[^>]*>(.*?)</div>', re.S)
SETTINGS = {"enabled": "y", "opens_minutes_before": "30", "admission_minutes": "5", "admissions_per_minute": "600",
            "stock_multiple": "2"}


def text(html: str) -> str:
    """What a reader sees: tags gone, every run of whitespace (no-break spaces too) one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def figures(html: str, section: re.Pattern = ROOM) -> dict[str, str]:
    return {name: text(body) for name, body in FIGURE.findall(section.search(html)[0])}


def german(client, path: str) -> str:
    response = client.get(path, headers=GERMAN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- the waiting room ----------------------------------------------------------------------------

def test_the_room_settings_page_and_the_rooms_card_speak_german(app, frozen, organizer, make_event):
    event_id, _ = make_event({"name": "GA", "capacity": 3, "sales_start": ON_SALE}, slug="berlin",
                             timezone="Europe/Berlin")
    form = german(organizer, f"/dashboard/events/{event_id}/room")
    assert "<h1>Warteraum</h1>" in form and "Warteraum speichern" in form and ">Abbrechen</a>" in form
    # The on-sale is 12:30 UTC: 14:30 in Berlin (summer time), written the German way.
    assert ("Der Verkaufsstart ist der früheste Verkaufsbeginn der Ticketarten: Mo., 1. Juni 2026, 14:30 CEST "
            "(Europe/Berlin).") in text(form)
    off = german(organizer, f"/dashboard/events/{event_id}")
    assert "Aus: Käufer reservieren direkt." in text(off) and "Warteraum einrichten" in off

    saved = post(organizer, f"/dashboard/events/{event_id}/room", SETTINGS, headers=GERMAN)
    assert saved.status_code == 302
    page = german(organizer, saved.location)
    assert "Der Warteraum ist eingeschaltet: Käufer warten darin ab seiner Öffnung" in page  # the flash
    shown = figures(page)
    assert shown["stage"] == "geöffnet, vor der Auslosung"
    assert shown["opens"] == "Mo., 1. Juni 2026, 14:00 CEST (Europe/Berlin)"
    assert shown["draws"] == "Mo., 1. Juni 2026, 14:30 CEST (Europe/Berlin)"
    assert shown["seed"] == "wird zum Verkaufsstart veröffentlicht"
    assert (shown["admission-minutes"], shown["admissions-per-minute"], shown["stock-multiple"]) == (
        "5 Min.", "höchstens 600 pro Minute", "bis zum 2-Fachen der noch verfügbaren Tickets")
    assert "Einstellungen ändern oder ausschalten" in page and "Jetzt im Warteraum" in page
    # The same card in English, as it was.
    english = figures(organizer.get(f"/dashboard/events/{event_id}").get_data(as_text=True))
    assert (english["stage"], english["admission-minutes"]) == ("open, before the draw", "5 min")


def test_the_rooms_live_figures_and_durations_in_german(organizer, room_event, frozen):
    event_id, ga = room_event(capacity=3)
    places = [waiting_room.join("onsale", f"b{n}@example.test") for n in range(5)]
    frozen.advance(timedelta(minutes=30))  # the on-sale: drawn, 3 admitted at once
    waiting_room.tick(event_id)
    first = next(view for view in (waiting_room.place("onsale", p.token) for p in places)
                 if view.phase == waiting_room.ADMITTED)
    reserving.reserve("onsale", {ga: 2}, "b@example.test", admission=first.admission)
    frozen.advance(timedelta(seconds=30))
    shown = figures(german(organizer, f"/dashboard/events/{event_id}/live"))
    assert (shown["stage"], shown["rate"]) == ("Käufer erhalten Zutritt", "3 in der letzten Minute")
    assert shown["sell-out"] == "15 Sek. (2 vergeben in den letzten 30 Sek.)"


def test_durations_follow_the_pages_language(app):
    with app.test_request_context(headers=GERMAN):
        assert [readable(s) for s in (None, 0.4, 42, 185, 7800, 7200)] == [
            "—", "0,4 Sek.", "42 Sek.", "3 Min. 5 Sek.", "2 Std. 10 Min.", "2 Std."]
    with app.test_request_context():
        assert readable(185) == "3 min 5 s"


def test_the_rooms_report_in_german(app, organizer, room_event, frozen):
    event_id, ga = room_event(capacity=1)
    places = [waiting_room.join("onsale", f"{name}@example.test") for name in ("a", "b")]
    frozen.advance(timedelta(minutes=30))
    waiting_room.tick(event_id)
    [payer] = [view for view in (waiting_room.place("onsale", p.token) for p in places)
               if view.phase == waiting_room.ADMITTED]
    pay(reserving.reserve("onsale", {ga: 1}, "payer@example.test", admission=payer.admission).id)
    frozen.advance(timedelta(seconds=1))
    waiting_room.tick(event_id)  # sold out: the room closes
    assert db.session.get(Event, event_id).waiting_room.closed_at is not None
    page = german(organizer, f"/dashboard/events/{event_id}")
    shown = figures(page)
    assert shown["stage"] == "geschlossen" and shown["holds-paid"] == "1"
    assert shown["places"] == "2, davon 1 eingelassen"
    assert "ausverkauft, Mo., 1. Juni 2026, 12:30 UTC (UTC)" in text(page)
    assert "Die veröffentlichte Auslosung</a>" in page and "Wartezeit (Median)" in page


# --- the waiting lists ----------------------------------------------------------------------------

@pytest.fixture
def line(app, rq_redis, make_event):
    """Event "line" in Berlin: 1 GA ticket (25.00), held; w1 (1 ticket) and w2 (2 tickets) wait for it."""
    event_id, [ga] = make_event({"name": "GA", "capacity": 1, "price": 2500, "per_order_limit": 4},
                                slug="line", timezone="Europe/Berlin")
    with app.app_context():
        reserve(event_id, {ga: 1}, "h@example.test")
        waitlist.join("line", ga, 1, "w1@example.test")
        waitlist.join("line", ga, 2, "w2@example.test")
    return event_id, ga


def test_the_waiting_lists_and_one_lines_places_in_german(organizer, frozen, line):
    event_id, ga = line
    page = german(organizer, f"/dashboard/events/{event_id}")
    assert "<h2 id=\"waiting-lists-title\">Wartelisten</h2>" in page
    assert "Ungedeckte Nachfrage: <strong data-figure=\"unmet-total\">75,00\xa0€</strong>" in page
    [(name, body)] = CARD.findall(page)
    shown = {figure: text(value) for figure, value in FIGURE.findall(body)}
    assert name == "GA"
    assert (shown["state"], shown["waiting"], shown["unmet"], shown["offered"]) == (
        "geöffnet", "2 Personen, 3 Tickets", "75,00 €", "0 (0 Tickets)")
    assert ">Pausieren</button>" in body and ">Schließen …</button>" in body and "Warteliste ansehen" in body

    places_page = german(organizer, f"/dashboard/events/{event_id}/ticket-types/{ga}/waitlist")
    assert "<h1>Warteliste für GA</h1>" in places_page
    assert "2 Plätze. Zeiten in Europe/Berlin; Ergebnisse mit Stand 14:00:00 CEST." in text(places_page)
    rows = {email: {col: text(value) for col, value in COLUMN.findall(body)} for email, body in
            PLACE.findall(places_page)}
    assert rows["w1@example.test"] == {"position": "1", "tickets": "1", "outcome": "wartet"}
    assert 'data-label="Angemeldet">Mo., 1. Juni 2026, 14:00 CEST</td>' in places_page
    english = organizer.get(f"/dashboard/events/{event_id}/ticket-types/{ga}/waitlist").get_data(as_text=True)
    assert "2 places. Times are in Europe/Berlin; outcomes as of 14:00:00 CEST." in text(english)


def test_an_offer_out_and_its_order_in_german(app, organizer, frozen, line):
    event_id, ga = line
    with app.app_context():
        reserving.release(db.session.query(Order).filter_by(email="h@example.test").one(), actor="buyer")
        [offer] = waitlist.serve(ga)
        offer_id = offer.id
    rows = {email: {col: text(value) for col, value in COLUMN.findall(body)} for email, body in
            PLACE.findall(german(organizer, f"/dashboard/events/{event_id}/ticket-types/{ga}/waitlist"))}
    assert re.fullmatch(r"Angebot offen bis \d\d:\d\d:\d\d CEST", rows["w1@example.test"]["outcome"])
    assert rows["w2@example.test"]["position"] == "1"
    page = german(organizer, f"/dashboard/events/{event_id}/ticket-types/{ga}/waitlist")
    assert f'/orders/{offer_id}">Bestellung {offer_id}</a>' in page


def test_closing_a_line_asks_first_in_german(organizer, line):
    event_id, ga = line
    response = post(organizer, f"/dashboard/events/{event_id}/ticket-types/{ga}/waitlist", {"state": "closed"},
                    headers=GERMAN)
    page = text(response.get_data(as_text=True))
    assert "Warteliste für GA schließen?" in page
    assert "2 Personen warten auf 3 Tickets. Das Schließen beendet jeden Platz auf der Liste" in page
    assert "(derzeit 0 offen)" in page and "Warteliste schließen" in page and "So lassen" in page


# --- check-in at the door ----------------------------------------------------------------------

def scan(client, event_id: int, code: str, device: str = "Tür 1", headers=GERMAN) -> tuple[str, str, str]:
    """Posted by htmx like the door page does: (result, the panel's words, the whole answer)."""
    response = post(client, f"/dashboard/events/{event_id}/checkin", {"code": code, "device": device},
                    headers={"HX-Request": "true", **headers})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    result, body = PANEL.search(page).groups()
    return result, text(body), page


def code_of(app, order_id: int) -> str:
    """The code the order's first seat carries (paid or not)."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        return tickets.code_for(order.id, 1, order.token)


def test_the_door_page_in_german(world, owner):
    page = german(owner, f"/dashboard/events/{world.event_id}/checkin")
    assert '<h1 class="door-title">Einlass an der Tür</h1>' in page
    assert "Bereit" in page and "Richten Sie die Kamera auf den QR-Code eines Tickets" in page
    # What the camera script says comes translated from the page.
    assert 'data-text-camera-off="Kamera aus."' in page and 'data-text-start="Kamera starten"' in page
    assert 'data-text-no-camera="Keine Kamera ({error}): Geben Sie die Codes unten ein."' in page
    assert 'placeholder="z. B. Tür 1"' in page and ">Einlassen</button>" in page
    assert '<th scope="row">Gesamt</th>' in page and 'data-row="Total"' in page  # the row's key stays
    assert "Noch niemand eingelassen." in page
    english = owner.get(f"/dashboard/events/{world.event_id}/checkin").get_data(as_text=True)
    assert 'data-text-camera-off="Camera off."' in english and '<th scope="row">Total</th>' in english


def test_scan_answers_in_german(app, frozen, world, owner):
    code = code_of(app, world.paid_order_id)
    result, words, page = scan(owner, world.event_id, code)
    assert result == "valid"
    assert words == f"✓ GÜLTIG VIP Einlassen. Bestellung {world.paid_order_id}, Platz 1 · payer@example.test"
    assert f"12:00:00 UTC · VIP · Bestellung {world.paid_order_id}, Platz 1 · Tür 1" in text(page)
    assert (f'hx-confirm="Einlass von VIP (Bestellung {world.paid_order_id}, Platz 1) rückgängig machen? '
            "Das Ticket kann dann erneut gescannt werden.") in page

    frozen.advance(timedelta(minutes=7))
    result, words, _ = scan(owner, world.event_id, code, "Tür 2")
    assert result == "already"
    assert words == (f"⚠ BEREITS EINGELASSEN VIP Nicht erneut einlassen: eingelassen am Mo., 1. Juni, 12:00:00 UTC "
                     f"von Tür 1. Bestellung {world.paid_order_id}, Platz 1.")

    result, words, _ = scan(owner, world.event_id, code_of(app, world.held_order_id))
    assert result == "not_paid" and words.startswith(
        "✕ NICHT BEZAHLT Nicht einlassen: Status der Bestellung dieses Tickets:")
    result, words, _ = scan(owner, world.event_id, code_of(app, world.other_order_id))
    assert (result, words) == ("wrong_event", "✕ KEIN TICKET DIESER VERANSTALTUNG Nicht einlassen: "
                                              "Dieses Ticket gilt nicht für Event owned.")
    result, words, _ = scan(owner, world.event_id, "hello")
    assert (result, words) == ("unreadable", "? UNLESBAR Das ist kein Ticketcode. Versuchen Sie es erneut oder "
                                             "geben Sie den Code ein, der unter dem QR-Code steht.")
    too_long = post(owner, f"/dashboard/events/{world.event_id}/checkin", {"code": "E" * 201, "device": "Tür 1"},
                    headers={"HX-Request": "true", **GERMAN})
    assert too_long.status_code == 422
    result, body = PANEL.search(too_long.get_data(as_text=True)).groups()
    assert (result, text(body)) == ("error", "! Ein Ticketcode hat höchstens 200 Zeichen.")
    # The same answer in English, as it was.
    result, words, _ = scan(owner, world.event_id, code, "Door 3", headers={})
    assert words.startswith("⚠ ALREADY CHECKED IN VIP Do not let in again: checked in at Mon 01 Jun, 12:00:00 UTC")


def test_an_undone_check_in_in_german(app, frozen, world, owner):
    scan(owner, world.event_id, code_of(app, world.paid_order_id), device="")
    status = german(owner, f"/dashboard/events/{world.event_id}/checkin/status")
    assert "· unbenanntes Gerät" in text(status)
    checkin_id = re.search(r'data-checkin="(\d+)"', status)[1]
    frozen.advance(timedelta(minutes=1))
    post(owner, f"/dashboard/events/{world.event_id}/checkins/{checkin_id}/undo", headers=GERMAN)
    status = german(owner, f"/dashboard/events/{world.event_id}/checkin/status")
    assert "12:01:00 UTC von owner@example.test rückgängig gemacht" in text(status)

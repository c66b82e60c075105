"""The waiting list's and the waiting room's buyer pages in German: a place in line, the room before
the draw (its countdown), people ahead and the estimated wait, a place that is unlikely to get
tickets, admitted, lapsed and closed, and their refusals; the API keeps its English messages."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template
from room_support import EVENT, ON_SALE, ROOM, Visitor, published_rule
from shop_support import HX, csrf_from, hold_for_other  # noqa: F401 (fixtures)
from sqlalchemy import select

from eventsite.domain.models import Event, Order, WaitingRoom
from eventsite.infra.db import db
from eventsite.services import paying, waiting_room

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def live_part(html: str, section: str = "room-live") -> str:
    match = re.search(rf'<section id="{section}".*?</section>', html, re.S)
    assert match, f"no {section} on the page"
    return match.group(0)


def drawn(app, event_id: int, visitors: list[Visitor]) -> list[Visitor]:
    """The visitors (places 1.. in arrival order) in the drawn order."""
    with app.app_context():
        seed = db.session.scalar(select(WaitingRoom.seed).where(WaitingRoom.event_id == event_id))
    return [visitors[number - 1] for number in published_rule(seed, range(1, len(visitors) + 1))]


# --- the waiting list ----------------------------------------------------------------------

def test_a_place_on_the_waiting_list_in_german(app, client, make_event, hold_for_other, frozen, rq_redis):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1, "per_order_limit": 3})
    hold_for_other(event_id, {ga: 1}, email="a@example.test")
    client.set_cookie("lang", "de")

    def join(quantity: int, email: str):
        form = {"csrf_token": csrf_from(client.get("/events/rush").text), "ticket_type_id": str(ga),
                "quantity": str(quantity), "email": email}
        return client.post("/events/rush/waitlist", data=form)

    joined = join(2, "wen@example.test")
    assert joined.status_code == 303
    page = client.get(joined.headers["Location"]).text
    assert '<html lang="de">' in page and "<title>Warteliste · " in page
    live = text(live_part(page, "waiting-live"))
    assert "Sie haben 2 Tickets für GA angefragt, für wen@example.test." in text(page)
    assert "Sie sind auf Platz 1 der Warteliste" in live
    assert "1 Ticket ist von anderen Käufern reserviert; die früheste Reservierung endet in 15:00." in live
    assert "&lt;" not in page and 'die früheste Reservierung endet in <time role="timer"' in page  # markup kept
    assert "Wenn Sie an der Reihe sind, sind die Tickets 10 Minuten für Sie reserviert" in live
    assert "Warteliste verlassen" in live and "You are" not in page
    assert "1 Person auf der Warteliste" in text(client.get("/events/rush").text)

    second_place = join(1, "zoe@example.test").headers["Location"]
    assert "Sie sind auf Platz 2 der Warteliste" in text(client.get(second_place).text)
    confirm = text(client.get(joined.headers["Location"] + "/leave").text)
    assert ("Warteliste verlassen? Sie sind auf Platz 1 der Warteliste. Wenn Sie sie verlassen, geben Sie diesen "
            "Platz endgültig auf") in confirm
    assert "Ja, Warteliste verlassen" in confirm and "Nein, meinen Platz behalten" in confirm

    # A refusal, in German; in English beside it, as it was.
    again = join(1, "wen@example.test")
    assert again.status_code == 409
    assert "wen@example.test steht bereits auf der Warteliste für GA" in text(again.text)
    assert "You are 2nd in line" in text(app.test_client().get(second_place).text)


# --- the waiting room ------------------------------------------------------------------------

def test_before_the_draw_the_room_counts_down_in_german(app, room_event, frozen):
    event_id, _ = room_event()
    ann, eve = Visitor(app, "de"), Visitor(app)
    event_page = text(ann.get(EVENT).text)
    assert "Verkaufsstart: Mo., 1. Juni 2026, 12:30 UTC" in event_page
    assert "Alle, die vor 12:30 UTC eintreten, erhalten in diesem Moment einen Platz in einer zufälligen Auslosung" \
        in event_page
    assert "Warteraum betreten" in event_page
    assert "Tickets go on sale at Mon 01 Jun 2026, 12:30 UTC" in text(eve.get(EVENT).text)

    assert ann.join().status_code == 303
    page = ann.room()
    assert "<title>Warteraum · " in page and "Warteraum für " in text(page)
    live = text(live_part(page))
    assert "Sie sind im Warteraum" in live
    assert ("Zum Verkaufsstart in 30:00 erhält jede Person hier einen zufälligen Platz in der Warteschlange. "
            "Bisher ist 1 Person hier.") in live
    assert "Ihre Platznummer ist 1." in live and "Warteraum verlassen" in live
    assert "Der Startwert der Auslosung steht fest: Sein SHA-256 ist" in live
    eve.join()
    assert "Bisher sind 2 Personen hier." in text(ann.poll().text)
    assert "2 people are here so far." in text(eve.poll().text)

    confirm = text(ann.get(f"{ROOM}/leave").text)
    assert ("Warteraum verlassen? Wenn Sie gehen, geben Sie diesen Platz endgültig auf: Treten Sie erneut ein, "
            "stellen Sie sich hinten an, hinter alle aus der Auslosung.") in confirm


def test_queued_places_see_who_is_ahead_the_wait_and_when_they_are_unlikely_to_get_tickets(app, room_event, frozen):
    event_id, _ = room_event(capacity=2)
    people = [Visitor(app, "de") for _ in range(5)]
    for visitor in people:
        visitor.join()
    frozen.advance(timedelta(minutes=30))  # the on-sale: drawn at the next tick
    order = drawn(app, event_id, people)
    assert [v.poll().headers.get("HX-Redirect") for v in order] == [EVENT, EVENT, None, None, None]

    next_, second, last = (text(live_part(v.room())) for v in order[2:])
    assert "Sie sind als Nächstes dran 2 Tickets übrig." in next_
    assert "1 Person vor Ihnen 2 Tickets übrig. Geschätzte Wartezeit: etwa 1 Minute." in second
    assert "2 Personen vor Ihnen" in last
    assert ("Sie erhalten in diesem Verkauf wahrscheinlich keine Tickets. Die 2 Personen vor Ihnen möchten "
            "mindestens 2 Tickets, und nur 2 sind übrig oder können noch frei werden.") in last
    assert "Tragen Sie sich in die Warteliste ein, um Tickets angeboten zu bekommen" in last
    offer = text(order[-1].get(f"{ROOM}/waitlist").text)
    assert "Auf die Warteliste setzen Ist dieser Verkauf ausverkauft" in offer and "Zurück zu meinem Platz" in offer


def test_admitted_lapsed_and_closed_in_german(app, room_event, frozen):
    event_id, ga = room_event(capacity=1)
    people = [Visitor(app, "de") for _ in range(2)]
    for visitor in people:
        visitor.join()
    frozen.advance(timedelta(minutes=30))
    first, other = drawn(app, event_id, people)
    assert first.poll().headers["HX-Redirect"] == EVENT  # admitted: sent to the event page to reserve

    # What the room says to an admitted place, should it be shown (the poll moves on at once).
    with app.test_request_context(ROOM, headers=GERMAN):
        place = waiting_room.Place(event_id=event_id, slug="onsale", title="", timezone="UTC", number=1, token="t",
                                   phase=waiting_room.ADMITTED, on_sale=ON_SALE, seed_hash="h", seed=None)
        admitted = text(render_template("shop/_room_status.html", place=place, at=ON_SALE, live=False, etag=None,
                                        hold_token=None))
    assert "Sie sind an der Reihe Reservieren Sie Ihre Tickets, bevor die nächste Person an der Reihe ist." in admitted

    frozen.advance(timedelta(minutes=5))  # the admission lapses unused
    lapsed = text(first.poll().text)
    assert "Ihr Zeitfenster ist abgelaufen Sie haben nicht rechtzeitig reserviert" in lapsed
    assert "Warteraum erneut betreten" in lapsed

    assert other.poll().headers["HX-Redirect"] == EVENT
    reserved = other.post(f"{EVENT}/reserve", {"csrf_token": csrf_from(other.get(EVENT).text),
                                               "email": "bob@example.test", f"qty-{ga}": "1"})
    assert reserved.status_code == 303
    with app.app_context():
        [order] = db.session.scalars(select(Order)).all()
        assert paying.confirm_payment(order.id, reason="paid", actor="test")
    frozen.advance(timedelta(seconds=1))  # the next tick: nothing left to sell, the room closes
    closed = text(first.poll().text)
    assert "Ausverkauft Der Warteraum ist geschlossen: Alle Tickets sind verkauft." in closed
    assert "Tragen Sie sich in die Warteliste ein, um Tickets angeboten zu bekommen, die frei werden." in closed


def test_a_refusal_of_the_room_in_german_and_the_api_keeps_english(app, client, room_event, frozen):
    room_event()
    ann, bob = Visitor(app, "de"), Visitor(app, "de")
    assert ann.join("ann@example.test").status_code == 303
    refused = bob.join("Ann@Example.test")
    assert refused.status_code == 409
    assert ("ann@example.test hat bereits einen Platz in diesem Warteraum, in dem Browser (oder der App), mit dem "
            "der Platz genommen wurde.") in text(refused.text)
    api = client.post("/api/v1/events/onsale/room", json={"email": "ann@example.test"}, headers=GERMAN)
    assert api.status_code == 409
    assert api.json["error"]["message"].startswith("ann@example.test already has a place in this waiting room")


@pytest.mark.parametrize("language, wanted", [("de", "Der Warteraum ist noch nicht geöffnet; er öffnet 10 Minuten "
                                                      "vor dem Verkaufsstart."),
                                              ("en", "The waiting room has not opened yet; it opens 10 minutes "
                                                     "before the on-sale.")])
def test_joining_too_early_is_refused_in_the_readers_language(app, room_event, frozen, language, wanted):
    event_id, _ = room_event(opens_minutes_before=10)
    with app.app_context():
        assert db.session.get(Event, event_id).waiting_room.opens_minutes_before == 10
    visitor = Visitor(app, language=language)
    refused = visitor.join()
    assert refused.status_code == 409 and wanted in text(refused.text)

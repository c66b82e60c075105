"""The reader's language: from the browser, or from the switcher (which sticks); every order,
place and message keeps the language it was asked in, so its emails speak it."""
from __future__ import annotations

import re

from shop_support import HX, csrf_from
from sqlalchemy import select

from eventsite.domain.models import Obligation, Order, WaitlistEntry
from eventsite.infra.db import db

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def test_the_browsers_language_is_spoken_with_english_for_the_rest(client, make_event):
    make_event({"name": "GA", "capacity": 5, "price": 2500})
    german = client.get("/events/rush", headers=GERMAN)
    assert '<html lang="de">' in german.text and "Für Veranstalter" in german.text
    assert {"Accept-Language", "Cookie"} <= set(german.vary)
    for other in ({"Accept-Language": "fr-FR,fr;q=0.9"}, {}):  # a language we do not speak, or none: English
        page = client.get("/events/rush", headers=other).text
        assert '<html lang="en">' in page and "For organizers" in page


def test_the_switcher_remembers_the_choice_and_returns_to_the_page(client, make_event):
    make_event({"name": "GA", "capacity": 5, "price": 2500})
    page = client.get("/events/rush?from=list").text
    assert 'name="next" value="/events/rush?from=list"' in page
    assert re.search(r'<button type="submit" name="lang" value="de" lang="de"[^>]*>Deutsch</button>', page)
    switched = client.post("/language", data={"csrf_token": csrf_from(page), "lang": "de",
                                              "next": "/events/rush?from=list"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/events/rush?from=list"
    assert "lang=de" in switched.headers["Set-Cookie"] and "Max-Age=31536000" in switched.headers["Set-Cookie"]
    # The choice wins over the browser's language, on every page, until changed again.
    again = client.get("/events/rush", headers={"Accept-Language": "en-US"}).text
    assert '<html lang="de">' in again and re.search(r'lang="en"[^>]*>English</button>', again)
    assert '<html lang="de">' in client.get("/dashboard/login").text
    client.post("/language", data={"csrf_token": csrf_from(again), "lang": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/events/rush", headers=GERMAN).text


def test_the_switcher_refuses_what_it_should_not_do(client, make_event):
    make_event({"name": "GA", "capacity": 5, "price": 2500})
    token = csrf_from(client.get("/").text)
    away = client.post("/language", data={"csrf_token": token, "lang": "de", "next": "//evil.example/x"})
    assert away.status_code == 303 and away.headers["Location"] == "/"  # never an open redirect
    sideways = client.post("/language", data={"csrf_token": token, "lang": "de", "next": "/\\evil.example/x"})
    assert sideways.headers["Location"] == "/"  # browsers read "/\\host" as "//host"
    unknown = client.post("/language", data={"csrf_token": token, "lang": "xx", "next": "/"})
    assert unknown.status_code == 303 and "lang=" not in unknown.headers.get("Set-Cookie", "")
    forged = client.post("/language", data={"lang": "de", "next": "/"})  # no CSRF token
    assert forged.status_code == 400 and "lang=" not in forged.headers.get("Set-Cookie", "")


def test_the_shared_availability_fragment_is_rendered_once_per_language(client, make_event):
    make_event({"name": "GA", "capacity": 5, "price": 2500})
    german = client.get("/events/rush/availability", headers={**HX, **GERMAN})
    english = client.get("/events/rush/availability", headers=HX)
    assert "25,00\xa0€" in german.text and "€25.00" not in german.text
    assert "€25.00" in english.text and "25,00" not in english.text
    assert {"Accept-Language", "Cookie"} <= set(english.vary)


def test_an_order_a_place_and_a_message_keep_the_language_they_were_asked_in(app, client, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 1, "price": 2500})
    page = client.get("/events/rush", headers=GERMAN).text
    placed = client.post("/events/rush/reserve", headers=GERMAN,
                         data={"csrf_token": csrf_from(page), "email": "anna@example.test", f"qty-{ga}": "1"})
    assert placed.status_code == 303
    joined = client.post("/events/rush/waitlist", headers=GERMAN,
                         data={"csrf_token": csrf_from(page), "email": "ben@example.test", "ticket_type_id": str(ga),
                               "quantity": "1"})
    assert joined.status_code == 303
    asked = client.post("/tickets", data={"csrf_token": csrf_from(page), "email": "cleo@example.test"})
    assert asked.status_code == 200
    with app.app_context():
        def language(model, column, value):
            return db.session.scalar(select(model.language).where(column == value))
        assert language(Order, Order.email, "anna@example.test") == "de"
        assert language(WaitlistEntry, WaitlistEntry.email, "ben@example.test") == "de"
        assert language(Obligation, Obligation.recipient, "cleo@example.test") == "en"

"""Errors a buyer meets, in the reader's language: the domain's refusals (marked English templates
with their values, translated where a page shows them) and the app-wide answers (not found, busy,
a stale form). The JSON API keeps answering its documented English messages, whatever the
Accept-Language."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask_babel import force_locale
from shop_support import HX, buyer, csrf_from  # noqa: F401 (fixtures)
from sqlalchemy import create_engine, text
from testenv import lock_held_elsewhere

from eventsite.domain.errors import InvalidRequest, SoldOut
from eventsite.services import reserving
from eventsite.web.i18n import said

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
API = "/api/v1"


def test_too_many_tickets_is_refused_in_german_and_stays_english_in_english(buyer, make_event):  # noqa: F811
    _, (ga,) = make_event({"name": "GA", "capacity": 20, "per_order_limit": 4})
    token = csrf_from(buyer.open_event().text)
    german = buyer.reserve({ga: 5}, token=token, headers=GERMAN)
    assert german.status_code == 422
    assert "Höchstens 4 Tickets für GA pro Bestellung." in german.text
    assert "At most 4" not in german.text
    english = buyer.reserve({ga: 5}, token=token)
    assert english.status_code == 422 and "At most 4 GA tickets per order." in english.text


def test_closed_sales_and_a_bad_address_are_said_in_german(buyer, make_event, frozen):  # noqa: F811
    _, (early, ga) = make_event({"name": "Frühbucher", "capacity": 5, "sales_end": frozen.now() - timedelta(minutes=1)},
                                {"name": "GA", "capacity": 5})
    token = csrf_from(buyer.open_event().text)
    closed = buyer.reserve({early: 1}, token=token, headers={**HX, **GERMAN})
    assert closed.status_code == 409 and "Der Verkauf für Frühbucher ist beendet." in closed.text
    bad_address = buyer.reserve({ga: 1}, email="no-at-sign", token=token, headers={**HX, **GERMAN})
    assert bad_address.status_code == 422 and "Geben Sie eine gültige E-Mail-Adresse ein." in bad_address.text
    assert "Enter a valid email address" not in bad_address.text


def test_a_missing_event_is_a_german_404_page(client):
    page = client.get("/events/no-such-event", headers=GERMAN)
    assert page.status_code == 404
    assert '<html lang="de">' in page.text and "Diese Veranstaltung gibt es nicht." in page.text
    english = client.get("/events/no-such-event")
    assert english.status_code == 404 and "There is no such event." in english.text


def test_an_unknown_address_or_method_is_a_page_in_the_readers_language(client):
    unknown = client.get("/no/such/page", headers=GERMAN)
    assert unknown.status_code == 404 and '<html lang="de">' in unknown.text
    assert "Diese Seite gibt es nicht." in unknown.text
    assert "There is no such page." in client.get("/no/such/page").text
    wrong = client.delete("/", headers=GERMAN)
    assert wrong.status_code == 405 and "Diese Seite lässt sich so nicht verwenden." in wrong.text
    api = client.get(f"{API}/no/such/thing", headers=GERMAN)  # the API answers its own paths in JSON, in English
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"


def test_a_stale_form_says_so_in_german(client, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 5})
    stale = client.post("/events/rush/reserve", headers=GERMAN,
                        data={"csrf_token": "out-of-date", "email": "anna@example.test", f"qty-{ga}": "1"})
    assert stale.status_code == 400
    assert "Dieses Formular ist abgelaufen" in stale.text and "Laden Sie die Seite neu" in stale.text


def test_busy_is_said_in_german_and_the_api_keeps_english(buyer, make_event, settings):  # noqa: F811
    settings(LOCK_TIMEOUT_SECONDS=0.2)
    _, (ga,) = make_event({"name": "GA", "capacity": 5})
    token = csrf_from(buyer.open_event().text)
    with lock_held_elsewhere(ga):
        page = buyer.reserve({ga: 1}, token=token, headers=GERMAN)
        api = buyer.http.post(f"{API}/events/rush/reservations", headers=GERMAN,
                              json={"email": "ben@example.test", "items": [{"ticket_type_id": ga, "quantity": 1}]})
    assert page.status_code == 503 and page.headers["Retry-After"] == "2"
    assert "Der Shop ist gerade ausgelastet; es wurde nichts geändert." in page.text
    assert api.status_code == 503 and api.json["error"]["code"] == "busy"
    assert api.json["error"]["message"] == ("The shop is busy right now; nothing was changed. "
                                            "Please try again in a moment.")


def test_the_api_answers_english_messages_whatever_the_browser_speaks(client, make_event, frozen):
    _, (ga, early) = make_event({"name": "GA", "capacity": 20, "per_order_limit": 4},
                                {"name": "Early", "capacity": 5, "sales_end": frozen.now() - timedelta(minutes=1)})

    def reserve(items, email="ann@example.test"):
        return client.post(f"{API}/events/rush/reservations", headers=GERMAN,
                           json={"email": email, "items": [{"ticket_type_id": k, "quantity": v} for k, v in items]})

    too_many = reserve([(ga, 5)])
    assert too_many.status_code == 422 and too_many.json["error"]["message"] == "At most 4 GA tickets per order."
    closed = reserve([(early, 1)])
    assert closed.status_code == 409 and closed.json["error"]["message"] == "Sales for Early are closed."
    missing = client.get(f"{API}/events/no-such-event", headers=GERMAN)
    assert missing.status_code == 404 and missing.json["error"]["message"] == "There is no such event."
    # A client that asks for JSON outside the API gets English too.
    stale = client.post("/events/rush/reserve", headers={**GERMAN, "Accept": "application/json"},
                        data={"email": "ann@example.test", f"qty-{ga}": "1"})
    assert stale.status_code == 400 and stale.json["error"]["message"].startswith("This form has expired")


def test_a_refusal_keeps_its_template_and_values_for_each_language(app, make_event, ctx):
    _, (ga,) = make_event({"name": "GA", "capacity": 1, "per_order_limit": 4})
    with pytest.raises(InvalidRequest) as too_many:
        reserving.reserve("rush", {ga: 5}, "ann@example.test")
    with pytest.raises(SoldOut) as sold_out:
        reserving.reserve("rush", {ga: 2}, "ann@example.test")
    error = too_many.value
    assert error.message == "At most 4 GA tickets per order." and error.params == {"limit": 4, "name": "GA"}
    assert sold_out.value.message == "Only 1 left."
    with app.test_request_context(), force_locale("de"):
        assert said(error) == "Höchstens 4 Tickets für GA pro Bestellung."
        assert said(sold_out.value) == "Nur noch 1 verfügbar."
    with app.test_request_context(), force_locale("en"):
        assert said(error) == "At most 4 GA tickets per order."

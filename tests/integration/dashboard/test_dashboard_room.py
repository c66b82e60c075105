"""The organizer's view of the waiting room: its settings through the dashboard form, its live
figures with a frozen clock, the report once it closed, and the seed only after the on-sale."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dashboard_helpers import add_organizer, pay, post, sign_in
from room_support import ON_SALE
from test_dashboard_waitlist import words

from eventsite.domain.models import Event, WaitingRoom
from eventsite.infra.db import db
from eventsite.readmodels.room_figures import readable
from eventsite.services import reserving, waiting_room

SECTION = re.compile(r'<section id="waiting-room".*?</section>', re.S)
FIGURE = re.compile(r'data-figure="([a-z0-9-]+)">(.*?)</(?:dd|span|p)>', re.S)
SETTINGS = {"enabled": "y", "opens_minutes_before": "30", "admission_minutes": "5", "admissions_per_minute": "600",
            "stock_multiple": "2"}


def card(client, event_id: int, path: str = "") -> dict[str, str]:
    """The waiting room as the organizer reads it on the event page: {figure: text}."""
    response = client.get(f"/dashboard/events/{event_id}{path}")
    assert response.status_code == 200
    return {name: words(text) for name, text in FIGURE.findall(SECTION.search(response.get_data(as_text=True))[0])}


def room_of(app, event_id: int) -> WaitingRoom | None:
    with app.app_context():
        return db.session.get(Event, event_id).waiting_room


def settings_url(event_id: int) -> str:
    return f"/dashboard/events/{event_id}/room"


@pytest.fixture
def berlin(app, frozen, organizer, make_event) -> int:
    """An event in Berlin on sale from ON_SALE, with no waiting room yet."""
    event_id, _ = make_event({"name": "GA", "capacity": 3, "sales_start": ON_SALE}, slug="berlin",
                             timezone="Europe/Berlin")
    return event_id


def admitted(places) -> list[waiting_room.Place]:
    views = [waiting_room.place("onsale", p.token) for p in places]
    return [view for view in views if view.phase == waiting_room.ADMITTED]


# --- settings through the form ---------------------------------------------------------


def test_the_organizer_sets_up_changes_and_switches_off_the_room(app, organizer, berlin):
    off = organizer.get(f"/dashboard/events/{berlin}").get_data(as_text=True)
    assert 'data-room="off"' in off and "Set up a waiting room" in off
    form = organizer.get(settings_url(berlin)).get_data(as_text=True)
    for name, default in (("opens_minutes_before", 30), ("admission_minutes", 5), ("admissions_per_minute", 600),
                          ("stock_multiple", 2)):
        assert re.search(rf'id="{name}"[^>]*value="{default}"', form), name
    assert "checked" in re.search(r'<input[^>]*id="enabled"[^>]*>', form)[0]  # setting up: the room on

    response = post(organizer, settings_url(berlin), SETTINGS)
    assert response.status_code == 302 and response.location == f"/dashboard/events/{berlin}"
    room = room_of(app, berlin)
    assert (room.enabled, room.opens_minutes_before, room.admission_minutes, room.admissions_per_minute,
            room.stock_multiple) == (True, 30, 5, 600, 2)
    shown = card(organizer, berlin)
    # The on-sale is 12:30 UTC: 14:30 in Berlin (summer time), the room opening 30 minutes before: now.
    assert shown["stage"] == "open, before the draw"
    assert shown["opens"] == "Mon 01 Jun 2026, 14:00 CEST (Europe/Berlin)"
    assert shown["draws"] == "Mon 01 Jun 2026, 14:30 CEST (Europe/Berlin)"
    assert shown["seed-hash"] == room.seed_hash
    assert shown["seed"] == "published at the on-sale"
    assert (shown["admission-minutes"], shown["admissions-per-minute"], shown["stock-multiple"]) == (
        "5 min", "at most 600 per minute", "up to 2 × the tickets that can still be bought")

    post(organizer, settings_url(berlin), {**SETTINGS, "opens_minutes_before": "10", "stock_multiple": "3"})
    changed = room_of(app, berlin)
    assert (changed.opens_minutes_before, changed.stock_multiple) == (10, 3)
    assert changed.seed_hash == room.seed_hash  # the published hash stays true
    shown = card(organizer, berlin)
    assert (shown["stage"], shown["opens"]) == ("not open yet", "Mon 01 Jun 2026, 14:20 CEST (Europe/Berlin)")

    switched_off = {key: value for key, value in SETTINGS.items() if key != "enabled"}
    assert post(organizer, settings_url(berlin), switched_off).status_code == 302
    assert room_of(app, berlin).enabled is False
    page = organizer.get(f"/dashboard/events/{berlin}").get_data(as_text=True)
    assert 'data-room="off"' in page and "Switch the waiting room on" in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("opens_minutes_before", "0", "Choose 1 to 1440 minutes before the on-sale."),
    ("opens_minutes_before", "1441", "Choose 1 to 1440 minutes before the on-sale."),
    ("admission_minutes", "61", "Choose 1 to 60 minutes an admission lasts."),
    ("admission_minutes", "", "Enter how many minutes an admitted buyer has to reserve."),
    ("admissions_per_minute", "0", "Choose 1 to 100000 admissions per minute."),
    ("admissions_per_minute", "100001", "Choose 1 to 100000 admissions per minute."),
    ("stock_multiple", "21", "Choose 1 to 20 times what can still be bought."),
    ("stock_multiple", "two", "Not a valid integer value."),
])
def test_each_bad_value_is_refused_next_to_its_field_and_changes_nothing(organizer, berlin, snapshot, field, value,
                                                                         message):
    post(organizer, settings_url(berlin), SETTINGS)
    before = snapshot()
    response = post(organizer, settings_url(berlin), {**SETTINGS, "opens_minutes_before": "45", field: value})
    assert response.status_code == 422
    assert f'<small class="field-error" id="{field}-error">{message}</small>' in response.get_data(as_text=True)
    assert snapshot() == before


def test_a_room_needs_a_ticket_type_with_a_sales_start(organizer, make_event, snapshot):
    event_id, _ = make_event({"name": "GA", "capacity": 3}, slug="always")
    before = snapshot()
    response = post(organizer, settings_url(event_id), SETTINGS)
    assert response.status_code == 422
    assert re.search(r'id="enabled-error">Give a ticket type a sales start first', response.get_data(as_text=True))
    assert snapshot() == before


def test_another_organizer_reaches_no_room_and_changes_nothing(app, berlin, snapshot):
    with app.app_context():
        add_organizer("other@example.test")
    other = app.test_client()
    sign_in(other, "other@example.test")
    before = snapshot()
    assert other.get(settings_url(berlin)).status_code == 404
    assert post(other, settings_url(berlin), SETTINGS).status_code == 404
    assert snapshot() == before
    assert room_of(app, berlin) is None


# --- live figures, report, seed (the room's own services, one organizer in the test) ------------


def test_the_live_figures_follow_joins_admissions_and_holds(organizer, room_event, frozen):
    event_id, ga = room_event(capacity=3)  # stock_multiple 1: at most 3 admissions open at once
    places = [waiting_room.join("onsale", f"b{n}@example.test") for n in range(5)]
    shown = card(organizer, event_id, "/live")
    assert (shown["stage"], shown["people"], shown["waiting"], shown["admitted"], shown["outstanding"]) == (
        "open, before the draw", "5", "5", "0", "0")
    assert "sell-out" not in shown  # no pace before the on-sale

    frozen.advance(timedelta(minutes=30))  # the on-sale instant: drawn, 3 admitted at once
    assert len(waiting_room.tick(event_id)) == 3
    shown = card(organizer, event_id, "/live")
    assert (shown["stage"], shown["waiting"], shown["admitted"], shown["outstanding"], shown["rate"]) == (
        "letting buyers in", "2", "3", "3", "3 in the last minute")
    assert (shown["holds-placed"], shown["left"], shown["sell-out"]) == ("0", "3", "—")

    first = admitted(places)[0]
    reserving.reserve("onsale", {ga: 2}, "b@example.test", admission=first.admission)
    frozen.advance(timedelta(seconds=30))
    shown = card(organizer, event_id, "/live")
    assert (shown["outstanding"], shown["holds-placed"], shown["left"]) == ("2", "1", "1")
    # 2 tickets taken in the 30 s since the on-sale, 1 left: sold out in about 15 s.
    assert shown["sell-out"] == "15 s (2 taken in the last 30 s)"

    frozen.advance(timedelta(minutes=6))  # nothing taken in the last 5 minutes: no pace
    shown = card(organizer, event_id, "/live")
    assert (shown["sell-out"], shown["rate"]) == ("—", "0 in the last minute")


def test_with_redis_down_the_room_says_it_is_paused_and_the_page_answers(organizer, room_event, frozen, settings):
    event_id, _ = room_event(capacity=3)
    waiting_room.join("onsale", "a@example.test")
    settings(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    shown = card(organizer, event_id)
    assert shown["paused"].startswith("The room is paused")
    assert "people" not in shown and shown["holds-placed"] == "0"


def test_the_seed_is_shown_only_once_the_on_sale_has_passed(organizer, room_event, frozen):
    event_id, _ = room_event()
    seed = db.session.get(Event, event_id).waiting_room.seed
    frozen.advance(timedelta(minutes=30) - timedelta(seconds=1))
    page = organizer.get(f"/dashboard/events/{event_id}").get_data(as_text=True)
    assert seed not in page
    frozen.advance(timedelta(seconds=1))
    shown = card(organizer, event_id)
    assert shown["seed"] == seed
    # Past the on-sale with nobody waiting and no admission open: the room is drained, its report shown.
    assert (shown["stage"], shown["sold"], shown["places"]) == ("nobody waiting", "0", "0, 0 admitted")


def test_after_selling_out_the_room_reports_and_stays_as_it_is(app, organizer, room_event, frozen, snapshot):
    event_id, ga = room_event(capacity=2)
    places = [waiting_room.join("onsale", f"{name}@example.test") for name in ("a", "b", "c")]
    frozen.advance(timedelta(minutes=30))
    waiting_room.tick(event_id)
    payer, dawdler = admitted(places)
    pay(reserving.reserve("onsale", {ga: 1}, "payer@example.test", admission=payer.admission).id)
    reserving.reserve("onsale", {ga: 1}, "dawdler@example.test", admission=dawdler.admission)
    frozen.advance(timedelta(minutes=15))  # the unpaid hold lapses; its ticket goes to the third place
    waiting_room.tick(event_id)
    [last] = admitted(places)
    pay(reserving.reserve("onsale", {ga: 1}, "last@example.test", admission=last.admission).id)
    frozen.advance(timedelta(seconds=1))
    waiting_room.tick(event_id)  # sold out: the room closes

    room = db.session.get(Event, event_id).waiting_room
    shown = card(organizer, event_id)
    assert shown["stage"] == "closed" and "people" not in shown  # the report, no live queue
    assert (shown["sold"], shown["places"]) == ("2", "3, 3 admitted")
    assert (shown["report-holds-placed"], shown["holds-lapsed"], shown["holds-paid"]) == ("3", "1", "2")
    # Two let in at the on-sale, one 15 minutes later.
    assert (shown["median-wait"], shown["p95-wait"]) == ("0 s", "13 min 30 s")
    assert (shown["seed"], shown["seed-hash"]) == (room.seed, room.seed_hash)
    page = organizer.get(f"/dashboard/events/{event_id}").get_data(as_text=True)
    assert 'href="/events/onsale/room/draw"' in page
    assert "Change settings" not in page

    before = snapshot()
    response = post(organizer, settings_url(event_id), SETTINGS)
    assert response.status_code == 409
    assert "This waiting room has closed" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize(("seconds", "shown"), [
    (None, "—"), (0.4, "0.4 s"), (0, "0 s"), (42, "42 s"), (60, "1 min"), (185, "3 min 5 s"), (7800, "2 h 10 min"),
    (7200, "2 h")])
def test_waits_are_written_as_people_read_them(seconds, shown):
    assert readable(seconds) == shown

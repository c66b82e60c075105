"""The organizer's view of the waiting lists (figures, places, pause / resume / close) and the
event form's waiting-list and renewal settings, through the dashboard with a signed-in organizer."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_helpers import csrf_token, pay, post, reserve
from fixtures_mail import text_of
from sqlalchemy import select
from test_dashboard_figures import count_statements

from eventsite.domain.errors import Conflict, InvalidRequest, SoldOut
from eventsite.domain.models import Event, Order, TicketType, WaitlistEntry, WaitlistStatus
from eventsite.infra.db import db
from eventsite.readmodels import waitlists
from eventsite.services import catalog, reserving, waitlist

CARD = re.compile(r'<article class="line" data-line="([^"]+)">(.*?)</article>', re.S)
FIGURE = re.compile(r'data-figure="([a-z-]+)">(.*?)</(?:dd|span)>', re.S)
PLACE = re.compile(r'<tr data-place="([^"]+)">(.*?)</tr>', re.S)
COLUMN = re.compile(r'data-col="([a-z]+)">(.*?)</td>', re.S)


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def card(html: str, name: str) -> str:
    """The HTML of one ticket type's card."""
    return dict(CARD.findall(html))[name]


def cards(html: str) -> dict[str, dict[str, str]]:
    """Each ticket type's waiting-list card as a reader sees it: {ticket type: {figure: text}}."""
    return {name: {figure: words(text) for figure, text in FIGURE.findall(body)} for name, body in CARD.findall(html)}


def places(html: str) -> dict[str, dict[str, str]]:
    """The line page's table: {email: {column: text}}."""
    return {email: {col: words(text) for col, text in COLUMN.findall(body)} for email, body in PLACE.findall(html)}


def line_url(event_id: int, tt_id: int) -> str:
    return f"/dashboard/events/{event_id}/ticket-types/{tt_id}/waitlist"


def join(app, tt_id: int, quantity: int, email: str, slug: str = "line") -> int:
    with app.app_context():
        return waitlist.join(slug, tt_id, quantity, email).id


def release(app, order_id: int) -> None:
    with app.app_context():
        reserving.release(db.session.get(Order, order_id), actor="buyer")


def serve(app, tt_id: int) -> list[int]:
    with app.app_context():
        return [order.id for order in waitlist.serve(tt_id)]


def entry_status(app, entry_id: int) -> WaitlistStatus:
    with app.app_context():
        return db.session.get(WaitlistEntry, entry_id).status


def line_state(app, tt_id: int) -> str:
    with app.app_context():
        return db.session.get(TicketType, tt_id).waitlist


@pytest.fixture
def sold_out(app, world, rq_redis, make_event):
    """The owner's event "line" in Berlin: 3 GA (25.00) and 1 VIP (50.00), every ticket held."""
    event_id, (ga, vip) = make_event({"name": "GA", "capacity": 3, "price": 2500, "per_order_limit": 4},
                                     {"name": "VIP", "capacity": 1, "price": 5000, "per_order_limit": 4},
                                     slug="line", organizer_email="owner@example.test", timezone="Europe/Berlin")
    with app.app_context():
        holds = [reserve(event_id, {ga: 1}, f"h{i}@example.test").id for i in range(3)]
        holds.append(reserve(event_id, {vip: 1}, "hv@example.test").id)
    return event_id, ga, vip, holds


def test_each_line_shows_who_waits_and_what_became_of_the_offers(app, owner, frozen, sold_out):
    event_id, ga, vip, (a, b, c, _) = sold_out
    w1, w2 = join(app, ga, 1, "w1@example.test"), join(app, ga, 1, "w2@example.test")
    join(app, ga, 2, "w3@example.test")
    join(app, ga, 1, "w4@example.test")
    with app.app_context():
        waitlist.leave(db.session.get(WaitlistEntry, join(app, ga, 3, "w5@example.test")).token)
    join(app, vip, 3, "v1@example.test")
    release(app, a)
    [lapsing] = serve(app, ga)  # w1
    release(app, b)
    [taken] = serve(app, ga)  # w2
    with app.app_context():
        pay(taken)
    release(app, c)
    assert serve(app, ga) == []  # one free; the head (w3) wants 2 and nobody behind it goes first
    frozen.advance(timedelta(minutes=10))  # w1's offer lapses at this instant; no job has run
    [out] = serve(app, ga)  # w3 gets the 2 now free

    with app.app_context():
        lines = waitlists.event_lines(db.session.get(Event, event_id))
    by_type = {line.ticket_type.name: line for line in lines.lines}
    counts = {name: (count.entries, count.tickets) for name, count in by_type["GA"].counts.items()}
    assert counts == {"waiting": (1, 1), "offered": (1, 2), "taken": (1, 1), "lapsed": (1, 1), "left": (1, 3),
                      "closed": (0, 0), "deferred": (0, 0)}
    assert by_type["GA"].unmet_demand == 2500 and by_type["VIP"].unmet_demand == 15000
    assert lines.unmet_demand == 17500

    page = owner.get(f"/dashboard/events/{event_id}").get_data(as_text=True)
    assert "Waiting lists" in page and "Unmet demand: <strong data-figure=\"unmet-total\">€175.00</strong>" in page
    shown = cards(page)
    assert shown["GA"] == {"state": "open", "waiting": "1 person, 1 ticket", "unmet": "€25.00",
                           "offered": "1 (2 tickets)", "taken": "1 (1 ticket)", "lapsed": "1 (1 ticket)",
                           "ended": "1, 0"}
    assert shown["VIP"]["waiting"] == "1 person, 3 tickets"
    assert shown["VIP"]["unmet"] == "€150.00"
    assert cards(owner.get(f"/dashboard/events/{event_id}/live").get_data(as_text=True)) == shown  # polled too

    line = owner.get(line_url(event_id, ga)).get_data(as_text=True)
    rows = places(line)
    assert list(rows) == [f"w{i}@example.test" for i in range(1, 6)]  # in the order they joined
    assert {email: (row["position"], row["outcome"]) for email, row in rows.items()} == {
        "w1@example.test": ("–", "offer lapsed"), "w2@example.test": ("–", "offer taken"),
        "w3@example.test": ("–", "offer out until 14:20:00 CEST"), "w4@example.test": ("1", "waiting"),
        "w5@example.test": ("–", "left the line")}
    assert "Times are in Europe/Berlin" in line and "Mon 01 Jun 2026, 14:00 CEST" in line  # joined, in Berlin
    for order_id in (lapsing, taken, out):
        assert f'href="/dashboard/events/{event_id}/orders/{order_id}">Order {order_id}</a>' in line
    assert entry_status(app, w1) == entry_status(app, w2) == WaitlistStatus.OFFERED


def test_partial_offers_and_unmet_demand_in_the_events_currency_and_locale(app, owner, rq_redis, world, make_event):
    event_id, [tt] = make_event({"name": "Stalls", "capacity": 1, "price": 1234, "per_order_limit": 5},
                                slug="kwd", organizer_email="owner@example.test", currency="KWD", locale="de_DE",
                                waitlist_partial_offers=True)
    with app.app_context():
        hold = reserve(event_id, {tt: 1}, "h@example.test").id
    join(app, tt, 4, "w1@example.test", slug="kwd")
    join(app, tt, 3, "w2@example.test", slug="kwd")
    release(app, hold)
    serve(app, tt)  # w1 is offered the 1 there is, of the 4 asked for
    shown = cards(owner.get(f"/dashboard/events/{event_id}").get_data(as_text=True))["Stalls"]
    assert shown["unmet"] == "KWD3.702"  # 3 x 1.234 KWD, three decimals, as an English reader writes it
    german = cards(owner.get(f"/dashboard/events/{event_id}", headers={"Accept-Language": "de"}).text)
    assert german["Stalls"]["unmet"] == "3,702 KWD"  # and as a German reader does
    assert shown["offered"] == "1 (1 ticket)"
    assert places(owner.get(line_url(event_id, tt)).get_data(as_text=True))["w1@example.test"]["tickets"] == (
        "4 (offered 1)")


def test_pausing_holds_the_offers_back_and_resuming_makes_them(app, owner, sold_out, run_jobs):
    event_id, ga, _, (a, *_) = sold_out
    entry = join(app, ga, 1, "w@example.test")
    paused = post(owner, line_url(event_id, ga), {"state": "paused"})
    assert paused.status_code == 302 and paused.location == f"/dashboard/events/{event_id}"
    page = owner.get(paused.location).get_data(as_text=True)
    assert "The waiting list for GA is paused" in page and cards(page)["GA"]["state"] == "paused"
    assert ">Resume</button>" in page
    release(app, a)
    run_jobs()
    assert entry_status(app, entry) == WaitlistStatus.WAITING  # no offer while paused
    with app.app_context(), pytest.raises(SoldOut):  # the ticket stays promised to the line
        reserve(event_id, {ga: 1}, "public@example.test")
    with app.app_context(), pytest.raises(Conflict, match="is paused"):
        waitlist.join("line", ga, 1, "late@example.test")

    assert post(owner, line_url(event_id, ga), {"state": "open"}).status_code == 302
    assert line_state(app, ga) == "open"
    run_jobs()
    assert entry_status(app, entry) == WaitlistStatus.OFFERED


def test_closing_asks_first_then_ends_every_place_and_frees_the_tickets(app, owner, sold_out, snapshot, run_jobs,
                                                                       inbox):
    event_id, ga, _, (a, *_) = sold_out
    entry = join(app, ga, 2, "w@example.test")
    release(app, a)
    run_jobs()  # the "you joined" message; no offer: 1 free, 2 asked for
    with app.app_context(), pytest.raises(SoldOut):
        reserve(event_id, {ga: 1}, "public@example.test")
    page = owner.get(f"/dashboard/events/{event_id}").get_data(as_text=True)
    assert "Close…</button>" in page

    before = snapshot()
    asked = post(owner, line_url(event_id, ga), {"state": "closed"})
    assert asked.status_code == 200
    text = words(asked.get_data(as_text=True))
    assert "Close the waiting list for GA?" in text and "1 person is waiting for 2 tickets" in text
    assert 'name="confirmed" value="1"' in asked.get_data(as_text=True)
    assert snapshot() == before  # asking changes nothing

    closed = post(owner, line_url(event_id, ga), {"state": "closed", "confirmed": "1"})
    assert closed.status_code == 302
    page = owner.get(closed.location).get_data(as_text=True)
    assert "The waiting list for GA is closed" in page
    assert cards(page)["GA"]["state"] == "closed" and cards(page)["GA"]["ended"] == "0, 1"
    assert ">Reopen</button>" in card(page, "GA") and "Close…</button>" not in card(page, "GA")
    assert entry_status(app, entry) == WaitlistStatus.CLOSED
    with app.app_context():
        assert reserve(event_id, {ga: 1}, "public@example.test").quantity == 1  # the public gets it now
    run_jobs()
    assert "closed the waiting list for GA" in text_of(inbox.to("w@example.test")[-1])
    line = places(owner.get(line_url(event_id, ga)).get_data(as_text=True))
    assert line["w@example.test"]["outcome"] == "ended by closing the list"


def test_the_figures_and_the_line_cost_the_same_few_queries_however_long_the_line(app, owner, sold_out):
    event_id, ga, _, (a, b, *_) = sold_out
    join(app, ga, 1, "w0@example.test")
    pages = (f"/dashboard/events/{event_id}/live", line_url(event_id, ga))
    few = [count_statements(app, lambda path=path: owner.get(path)) for path in pages]
    for n in range(1, 13):
        join(app, ga, 1, f"w{n}@example.test")
    release(app, a)
    release(app, b)
    assert len(serve(app, ga)) == 2
    assert [count_statements(app, lambda path=path: owner.get(path)) for path in pages] == few


def test_another_organizer_sees_no_line_and_changes_none(app, world, other, owner, client, sold_out, snapshot):
    event_id, ga, _, _ = sold_out
    join(app, ga, 1, "w@example.test")
    before = snapshot()
    for response in (client.get(line_url(event_id, ga)), post(client, line_url(event_id, ga), {"state": "paused"})):
        assert response.status_code == 302 and response.location.startswith("/dashboard/login")  # signed out
    assert other.get(line_url(event_id, ga)).status_code == 404
    for state in ("paused", "closed"):
        assert post(other, line_url(event_id, ga), {"state": state, "confirmed": "1"}).status_code == 404
    # The owner's event with another organizer's ticket type is no line either.
    assert owner.get(line_url(event_id, world.other_ticket_type_id)).status_code == 404
    assert post(owner, line_url(event_id, world.other_ticket_type_id), {"state": "paused"}).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("form", [{"state": "shut"}, {"state": ""}, {}, {"state": "OPEN"}])
def test_a_bad_state_is_refused_with_a_message_and_nothing_changes(owner, sold_out, snapshot, form):
    event_id, ga, _, _ = sold_out
    before = snapshot()
    response = post(owner, line_url(event_id, ga), form)
    assert response.status_code == 422
    assert "A waiting list is open, paused, closed." in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("page", ["0", "x", "100001", "-1", "1.5"])
def test_a_bad_page_of_the_line_is_refused(owner, sold_out, page):
    event_id, ga, _, _ = sold_out
    response = owner.get(line_url(event_id, ga), query_string={"page": page})
    assert response.status_code == 422 and "A page number from 1 to 100000." in response.get_data(as_text=True)


def test_a_state_change_without_csrf_token_is_refused(app, owner, sold_out, snapshot):
    event_id, ga, _, _ = sold_out
    before = snapshot()
    response = owner.post(line_url(event_id, ga), data={"state": "closed", "confirmed": "1"})
    assert response.status_code == 400
    assert snapshot() == before and line_state(app, ga) == "open"


def test_the_order_page_says_an_offer_came_from_the_waiting_list(app, owner, sold_out):
    event_id, ga, _, (a, b, *_) = sold_out
    join(app, ga, 1, "w@example.test")
    release(app, a)
    [offer] = serve(app, ga)
    page = owner.get(f"/dashboard/events/{event_id}/orders/{offer}").get_data(as_text=True)
    assert "An offer from the waiting list for GA" in page and "asked for 1" in page
    assert f'href="{line_url(event_id, ga)}"' in page
    assert "waiting list offer" in page  # the audit trail
    assert "An offer from the waiting list" not in owner.get(
        f"/dashboard/events/{event_id}/orders/{b}").get_data(as_text=True)


# --- the event form's settings -----------------------------------------------------------------

EVENT = {"title": "Spring Gala", "slug": "spring-gala", "timezone": "Europe/Berlin", "starts_at": "2026-12-01T19:30",
         "hold_minutes": "10", "pending_payment_hours": "48", "currency": "EUR", "locale": "en",
         "max_holds_per_client": "4", "release_cooldown_seconds": "60"}
SETTINGS = {"offer_minutes": "30", "waitlist_partial_offers": "y", "renewal_minutes": "2", "max_renewals": "0"}


def settings_of(app, slug: str) -> tuple:
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        return event.offer_minutes, event.waitlist_partial_offers, event.renewal_minutes, event.max_renewals


def test_the_event_form_sets_the_waiting_list_and_renewals(app, owner):
    form = owner.get("/dashboard/events/new").get_data(as_text=True)
    for name, default in (("offer_minutes", 10), ("renewal_minutes", 5), ("max_renewals", 10)):
        assert re.search(rf'name="{name}"[^>]*value="{default}"', form), name
    assert 'name="waitlist_partial_offers"' in form

    created = post(owner, "/dashboard/events/new", {**EVENT, **SETTINGS})
    assert created.status_code == 302
    assert settings_of(app, "spring-gala") == (30, True, 2, 0)
    edit = f"{created.location}/edit"
    shown = owner.get(edit).get_data(as_text=True)
    assert re.search(r'name="offer_minutes"[^>]*value="30"', shown)
    assert re.search(r'name="max_renewals"[^>]*value="0"', shown)
    assert re.search(r'checked[^>]*name="waitlist_partial_offers"|name="waitlist_partial_offers"[^>]*checked', shown)

    saved = post(owner, edit, {**EVENT, "offer_minutes": "1440", "renewal_minutes": "60", "max_renewals": "100"})
    assert saved.status_code == 302
    assert settings_of(app, "spring-gala") == (1440, False, 60, 100)  # an unticked box is "no"


def test_a_client_that_sends_no_settings_gets_the_defaults(app, owner):
    assert post(owner, "/dashboard/events/new", EVENT).status_code == 302
    assert settings_of(app, "spring-gala") == (10, False, 5, 10)


@pytest.mark.parametrize("change, message", [
    ({"offer_minutes": "0"}, "An offer to the waiting list lasts between 1 and 1440 minutes."),
    ({"offer_minutes": "1441"}, "An offer to the waiting list lasts between 1 and 1440 minutes."),
    ({"offer_minutes": ""}, "Enter how many minutes an offer lasts."),
    ({"offer_minutes": "ten"}, "Not a valid integer value."),
    ({"renewal_minutes": "0"}, "A renewal adds between 1 and 60 minutes."),
    ({"renewal_minutes": "61"}, "A renewal adds between 1 and 60 minutes."),
    ({"renewal_minutes": " "}, "Enter how many minutes a renewal adds."),
    ({"max_renewals": "-1"}, "Between 0 (no renewals) and 100 renewals per hold."),
    ({"max_renewals": "101"}, "Between 0 (no renewals) and 100 renewals per hold."),
    ({"max_renewals": ""}, "Enter how many renewals a hold may have (0 for none)."),
])
@pytest.mark.parametrize("which", ["new", "edit"])
def test_bad_settings_are_refused_and_nothing_is_saved(world, owner, snapshot, change, message, which):
    path = "/dashboard/events/new" if which == "new" else f"/dashboard/events/{world.event_id}/edit"
    before = snapshot()
    response = post(owner, path, {**EVENT, **SETTINGS, "slug": "owned" if which == "edit" else "fresh", **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


def test_the_catalog_refuses_settings_out_of_range_from_any_caller(app, world):
    values = {"title": "X", "slug": "x", "timezone": "UTC", "venue": "", "description": "", "ends_at": None,
              "starts_at": datetime(2027, 1, 1, tzinfo=UTC),
              "hold_minutes": 15, "pending_payment_hours": 72, "max_holds_per_client": 4,
              "release_cooldown_seconds": 60, "currency": "EUR", "locale": "en", "published": False,
              "offer_minutes": 10, "waitlist_partial_offers": False, "renewal_minutes": 5, "max_renewals": 10}
    with app.app_context():
        for field, bad in (("offer_minutes", 0), ("renewal_minutes", 61), ("max_renewals", True)):
            with pytest.raises(InvalidRequest) as refused:
                catalog.create_event(world.owner_id, {**values, field: bad})
            assert refused.value.field == field
        assert db.session.scalar(select(Event).where(Event.slug == "x")) is None

"""Creating and editing events and ticket types through the dashboard forms."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from dashboard_helpers import pay, post, reserve
from sqlalchemy import select

from eventsite.domain.models import Event, TicketType
from eventsite.infra.db import db

EVENT = {"title": "Spring Gala", "slug": "spring-gala", "timezone": "Europe/Berlin", "venue": "Hall",
         "starts_at": "2026-12-01T19:30", "ends_at": "2026-12-01T23:00", "hold_minutes": "10",
         "pending_payment_hours": "48", "description": "Dancing.", "currency": "EUR", "locale": "en"}
TICKET = {"name": "Early bird", "price": "25.50", "capacity": "100", "per_order_limit": "4",
          "sales_start": "2026-11-01T09:00", "sales_end": "2026-11-30T18:00"}


def event_row(app, slug: str) -> Event | None:
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        if event:
            db.session.expunge(event)
        return event


def ticket_type_row(app, tt_id: int) -> TicketType:
    with app.app_context():
        tt = db.session.get(TicketType, tt_id)
        db.session.expunge(tt)
        return tt


def refused_and_unchanged(snapshot, client, path: str, form: dict, status: int, message: str) -> None:
    """The form is refused with ``status`` and ``message``, and no row of any table changed."""
    before = snapshot()
    response = post(client, path, form)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert snapshot() == before


def test_create_event_in_its_time_zone(app, world, owner):
    response = post(owner, "/dashboard/events/new", EVENT)
    assert response.status_code == 302
    event = event_row(app, "spring-gala")
    assert response.location == f"/dashboard/events/{event.id}"
    assert event.organizer_id == world.owner_id and not event.published and event.hold_minutes == 10
    assert event.pending_payment_hours == 48
    # 19:30 in Berlin in December is 18:30 UTC.
    assert event.starts_at == datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    assert event.ends_at == datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    page = owner.get(response.location).get_data(as_text=True)
    assert "Spring Gala" in page and "Tue 01 Dec 2026, 19:30 CET" in page
    assert "Spring Gala" in owner.get("/dashboard/").get_data(as_text=True)


@pytest.mark.parametrize("change, status, message", [
    ({"slug": "Not A Slug"}, 422, "lower-case letters"),
    ({"slug": "owned"}, 409, "already taken"),
    ({"timezone": "Mars/Olympus"}, 422, "Choose a time zone"),
    ({"ends_at": "2026-12-01T18:00"}, 422, "must end after it starts"),
    ({"hold_minutes": "0"}, 422, "between 1 and 1440"),
    ({"pending_payment_hours": "721"}, 422, "Between 1 and 720 hours"),
    ({"title": ""}, 422, "This field is required"),
    ({"starts_at": "yesterday"}, 422, "Not a valid datetime"),
    ({"currency": "EURO"}, 422, "ISO 4217 currency code"),
    ({"currency": "XYZ"}, 422, "ISO 4217 currency code"),
    ({"locale": "klingon"}, 422, "Use a locale such as"),
])
def test_bad_event_input_is_refused_and_nothing_changes(world, owner, snapshot, change, status, message):
    before = snapshot()
    response = post(owner, "/dashboard/events/new", {**EVENT, **change})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


def test_edit_event_shows_local_times_and_saves(app, world, owner):
    path = f"/dashboard/events/{world.event_id}/edit"
    assert 'value="owned"' in owner.get(path).get_data(as_text=True)
    response = post(owner, path, {**EVENT, "slug": "owned", "title": "Renamed", "published": "y"})
    assert response.status_code == 302
    event = event_row(app, "owned")
    assert event.title == "Renamed" and event.published and event.timezone == "Europe/Berlin"
    page = owner.get(path).get_data(as_text=True)
    assert 'value="2026-12-01T19:30"' in page


def test_edit_cannot_take_another_events_slug(app, world, owner, snapshot):
    before = snapshot()
    response = post(owner, f"/dashboard/events/{world.event_id}/edit", {**EVENT, "slug": "theirs"})
    assert response.status_code == 409 and "already taken" in response.get_data(as_text=True)
    assert snapshot() == before


def test_publish_and_unpublish(app, world, owner, client, snapshot):
    path = f"/dashboard/events/{world.event_id}/publication"
    assert post(owner, path, {"published": "0"}).status_code == 302
    assert not event_row(app, "owned").published
    assert "Event owned" not in client.get("/").get_data(as_text=True)  # gone from the shop
    assert post(owner, path, {"published": "1"}).status_code == 302
    assert event_row(app, "owned").published
    assert "Event owned" in client.get("/").get_data(as_text=True)
    before = snapshot()
    assert post(owner, path, {"published": "maybe"}).status_code == 422
    assert snapshot() == before


def test_add_ticket_type_in_minor_units_and_event_time(app, world, owner):
    response = post(owner, f"/dashboard/events/{world.event_id}/ticket-types/new", TICKET)
    assert response.status_code == 302
    with app.app_context():
        tt = db.session.scalar(select(TicketType).where(TicketType.name == "Early bird"))
        assert (tt.event_id, tt.price, tt.currency, tt.capacity, tt.per_order_limit, tt.sold) == (
            world.event_id, 2550, "EUR", 100, 4, 0)
        # make_event's events are in UTC.
        assert tt.sales_start == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    page = owner.get(f"/dashboard/events/{world.event_id}").get_data(as_text=True)
    assert "Early bird: €25.50" in page


@pytest.mark.parametrize("change, message", [
    ({"price": "-1"}, "The price cannot be negative."),
    ({"sales_end": "2026-10-01T09:00"}, "The sales window must end after it starts."),
    ({"capacity": "-5"}, "Capacity is a number from 0."),
    ({"per_order_limit": "0"}, "at least 1 ticket per order"),
    ({"price": ""}, "Enter a price"),
])
def test_bad_ticket_type_input_is_refused_and_nothing_changes(world, owner, snapshot, change, message):
    before = snapshot()
    response = post(owner, f"/dashboard/events/{world.event_id}/ticket-types/new", {**TICKET, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


def test_edit_ticket_type(app, world, owner):
    ga = world.ticket_type_ids[0]
    path = f"/dashboard/events/{world.event_id}/ticket-types/{ga}/edit"
    assert 'value="10.00"' in owner.get(path).get_data(as_text=True)
    response = post(owner, path, {**TICKET, "name": "General", "capacity": "30", "sales_start": "", "sales_end": ""})
    assert response.status_code == 302
    tt = ticket_type_row(app, ga)
    assert (tt.name, tt.price, tt.capacity, tt.sales_start, tt.sales_end) == ("General", 2550, 30, None, None)


def test_capacity_below_sold_plus_held_is_refused_with_the_numbers(app, world, owner, snapshot):
    ga = world.ticket_type_ids[0]
    with app.app_context():
        paid = reserve(world.event_id, {ga: 3}, "paid@example.test").id
        pay(paid)
    # GA now: 3 sold, 2 held (the world's hold).
    path = f"/dashboard/events/{world.event_id}/ticket-types/{ga}/edit"
    before = snapshot()
    response = post(owner, path, {**TICKET, "capacity": "4"})
    assert response.status_code == 409
    assert "Capacity cannot go below 5: 3 sold and 2 held right now." in response.get_data(as_text=True)
    assert snapshot() == before
    assert post(owner, path, {**TICKET, "capacity": "5"}).status_code == 302
    assert ticket_type_row(app, ga).capacity == 5


def test_a_new_event_offers_the_installation_hold_length(owner, settings):
    settings(HOLD_MINUTES_DEFAULT=20)  # HOLD_MINUTES=20 in the environment
    page = owner.get("/dashboard/events/new").get_data(as_text=True)
    [field] = re.findall(r'<input[^>]*name="hold_minutes"[^>]*>', page)
    assert 'value="20"' in field


def test_prices_are_in_the_events_currency_and_written_as_the_reader_writes_them(app, world, owner, client, snapshot):
    created = post(owner, "/dashboard/events/new", {**EVENT, "currency": "jpy", "locale": "de-de", "published": "y"})
    event = event_row(app, "spring-gala")
    assert created.status_code == 302 and (event.currency, event.locale) == ("JPY", "de_DE")
    path = f"/dashboard/events/{event.id}/ticket-types/new"
    # 25.50 yen does not exist
    refused_and_unchanged(snapshot, owner, path, TICKET, 422, "JPY amounts have 0 decimal places")
    assert post(owner, path, {**TICKET, "price": "2500", "sales_start": "", "sales_end": ""}).status_code == 302
    german = {"Accept-Language": "de"}  # the event's locale speaks German: its conventions (de_DE)
    assert "Early bird: 2.500\xa0¥" in owner.get(f"/dashboard/events/{event.id}", headers=german).text
    assert "2.500\xa0¥" in client.get("/events/spring-gala", headers=german).text  # the buyer's page too
    assert "Early bird: ¥2,500" in owner.get(f"/dashboard/events/{event.id}").text  # an English reader's way


def test_the_currency_changes_with_its_prices_until_something_is_ordered(app, world, owner, snapshot):
    published = {**EVENT, "published": "y"}
    post(owner, "/dashboard/events/new", published)
    event = event_row(app, "spring-gala")
    post(owner, f"/dashboard/events/{event.id}/ticket-types/new", {**TICKET, "sales_start": "", "sales_end": ""})
    edit = f"/dashboard/events/{event.id}/edit"
    refused_and_unchanged(snapshot, owner, edit, {**published, "currency": "JPY"}, 409,
                          "Early bird costs 25.50 EUR, which JPY cannot express")
    assert post(owner, edit, {**published, "currency": "KWD"}).status_code == 302
    with app.app_context():
        tt = db.session.scalar(select(TicketType).where(TicketType.event_id == event.id))
        assert (tt.currency, tt.price) == ("KWD", 25500)  # the same 25.50, in fils
        order = reserve(event.id, {tt.id: 1}, "first@example.test")
        assert (order.currency, order.total) == ("KWD", 25500)
    refused_and_unchanged(snapshot, owner, edit, {**published, "currency": "EUR"}, 409,
                          "cannot change once tickets have been ordered")

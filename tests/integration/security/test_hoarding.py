"""Limits against hoarding (issue 13): one client held a whole event in two posts and held it
again right after each release; one email placed three holds in a row. Each refusal is a
clear 409 or 429 that says what to do, and changes nothing."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from dashboard_helpers import add_organizer, csrf_token, post, sign_in
from races import before_statement
from sqlalchemy import func, select, update

from eventsite import create_app
from eventsite.domain.errors import AlreadyReserved
from eventsite.domain.models import Event, Order
from eventsite.infra.db import db
from eventsite.infra.settings import SettingsError, load
from eventsite.infra.transactions import Busy
from eventsite.services import reserving

API = "/api/v1"
HX = {"HX-Request": "true"}
ALICE, BOB = "10.0.0.1", "10.0.0.2"


def form(client, quantities: dict[int, int], email: str, *, addr: str = ALICE, slug: str = "rush", headers=None):
    """The shop's reserve form, as a browser at ``addr`` posts it (the token from the rendered page)."""
    page = client.get(f"/events/{slug}", environ_base={"REMOTE_ADDR": addr}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"email": email, **{f"qty-{k}": str(v) for k, v in quantities.items()},
            **({"csrf_token": token.group(1)} if token else {})}
    return client.post(f"/events/{slug}/reserve", data=data, headers=headers or {},
                       environ_base={"REMOTE_ADDR": addr})


def api(client, items: dict[int, int], email: str, *, addr: str = ALICE, slug: str = "rush"):
    body = {"email": email, "items": [{"ticket_type_id": tt, "quantity": q} for tt, q in items.items()]}
    return client.post(f"{API}/events/{slug}/reservations", json=body, environ_base={"REMOTE_ADDR": addr})


def limits(app, event_id: int, **values) -> None:
    """Configure the event's limits as its organizer would (the dashboard test below does it by form)."""
    with app.app_context():
        db.session.execute(update(Event).where(Event.id == event_id).values(**values))
        db.session.commit()


def holds(app, email: str | None = None) -> list[Order]:
    with app.app_context():
        query = select(Order).order_by(Order.id)
        if email:
            query = query.where(func.lower(Order.email) == email)
        return list(db.session.scalars(query))


@pytest.fixture
def limited_app(limited):
    """Rate limits on, with the default RESERVE_RATE_LIMIT."""
    return limited(WTF_CSRF_ENABLED=False)


# --- one reservation budget per client, whichever door -----------------------------

def test_the_form_and_the_api_spend_one_reservation_budget_per_client(app, limited_app, make_event, table_counts):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 100})
    limits(app, event_id, max_holds_per_client=0)  # only the rate limit is under test here
    client = limited_app.test_client()
    assert limited_app.config["RESERVE_RATE_LIMIT"] == "10/minute"

    assert [form(client, {ga: 1}, f"b{i}@example.test").status_code for i in range(10)] == [303] * 10
    refused = api(client, {ga: 1}, "b10@example.test")

    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # The form is refused too, now that the API call spent nothing more: one budget.
    page = form(client, {ga: 1}, "b11@example.test", headers=HX)
    assert page.status_code == 429 and 0 < int(page.headers["Retry-After"]) <= 60
    assert "Too many reservation attempts from your connection; try again in" in page.get_data(as_text=True)
    assert table_counts()[0] == 10
    assert api(client, {ga: 1}, "c@example.test", addr=BOB).status_code == 201  # another client, its own budget


def test_the_old_name_of_the_limit_stops_the_app_with_the_new_one(tmp_path):
    with pytest.raises(SettingsError, match="API_RESERVE_RATE_LIMIT is now RESERVE_RATE_LIMIT"):
        load(str(tmp_path), {"API_RESERVE_RATE_LIMIT": "5/minute", "SECRET_KEY": "s"})
    config = load(str(tmp_path), {"RESERVE_RATE_LIMIT": "5/minute", "SECRET_KEY": "s"})
    assert config["RESERVE_RATE_LIMIT"] == "5/minute"


# --- one live hold per email and event --------------------------------------------

def test_a_second_hold_from_the_same_email_shows_the_buyer_their_hold(app, client, make_event, table_counts):
    _, (ga, vip) = make_event({"name": "GA", "capacity": 10, "per_order_limit": 4},
                              {"name": "VIP", "capacity": 10, "per_order_limit": 4})
    first = form(client, {ga: 4}, " Ann@Example.test ")
    assert first.status_code == 303
    token = first.headers["Location"].rsplit("/", 1)[1]
    before = table_counts()

    again = form(client, {ga: 4, vip: 4}, "ann@example.TEST")  # the same buyer, however written
    fragment = form(client, {vip: 1}, "ann@example.test", headers=HX)

    assert again.status_code == 409 and fragment.status_code == 409
    for page in (again.get_data(as_text=True), fragment.get_data(as_text=True)):
        assert "You already have tickets reserved for this event:" in page
        assert f'href="/r/{token}"' in page  # this browser placed it: the link to it, in place
    assert table_counts() == before


def test_someone_else_typing_the_email_is_refused_without_the_holds_key(app, client, make_event, table_counts):
    """The link is the key to the hold (see it, release it): only the browser that placed it gets it."""
    _, (ga,) = make_event()
    token = form(client, {ga: 2}, "ann@example.test").headers["Location"].rsplit("/", 1)[1]
    before = table_counts()

    stranger = form(app.test_client(), {ga: 2}, "ann@example.test", addr=BOB)
    through_api = api(app.test_client(), {ga: 2}, "ANN@example.test", addr=BOB)

    assert stranger.status_code == 409
    page = stranger.get_data(as_text=True)
    assert "You already have tickets reserved for this event:" in page and "find my tickets" in page
    assert through_api.status_code == 409
    assert through_api.json["error"]["code"] == "already_reserved"
    assert through_api.json["error"]["message"].startswith("You already have tickets reserved for this event;")
    assert token not in page and token not in through_api.get_data(as_text=True)
    assert table_counts() == before


def test_the_email_may_reserve_again_once_its_hold_has_lapsed(app, client, make_event, frozen):
    _, (ga,) = make_event(hold_minutes=15)
    assert api(client, {ga: 2}, "ann@example.test").status_code == 201
    frozen.advance(timedelta(minutes=14, seconds=59))
    assert api(client, {ga: 2}, "ann@example.test").status_code == 409
    frozen.advance(timedelta(seconds=1))  # the hold lapses at its expiry instant, job or not
    assert api(client, {ga: 2}, "ann@example.test").status_code == 201


def test_two_concurrent_reservations_from_one_email_place_one_hold(app, ctx, make_event, monkeypatch):
    """The second one arrives while the first has passed the check and is writing its order:
    it must wait for the first (and then be refused), not slip through on another ticket type."""
    make_event({"name": "GA", "capacity": 10}, {"name": "VIP", "capacity": 10})
    ga, vip = db.session.scalars(select(Event)).one().ticket_types
    monkeypatch.setitem(app.config, "LOCK_TIMEOUT_SECONDS", 0.3)
    outcome = []

    def second_post():
        with app.app_context():
            try:
                reserving.reserve("rush", {vip.id: 1}, "ann@example.test")
                outcome.append("held")
            except (AlreadyReserved, Busy) as error:
                outcome.append(type(error).__name__)

    with before_statement(db.engine, lambda sql: sql.startswith("INSERT INTO orders"), second_post) as raced:
        reserving.reserve("rush", {ga.id: 1}, "ann@example.test")

    # While the first holds the buyer's lock the second waits, and gives up as busy (503, try again).
    assert raced and outcome == ["Busy"]
    assert [o.email for o in holds(app)] == ["ann@example.test"]
    with pytest.raises(AlreadyReserved):  # tried again, it sees the first hold
        reserving.reserve("rush", {vip.id: 1}, "Ann@example.test")


def test_a_burst_of_posts_from_one_email_over_http_places_one_hold(app, make_event, table_counts):
    _, types = make_event(*({"name": f"T{i}", "capacity": 5} for i in range(6)))
    start = threading.Barrier(len(types))
    statuses = []

    def post_one(tt: int):
        client = app.test_client()
        start.wait()
        statuses.append(api(client, {tt: 1}, "ann@example.test", addr=f"10.0.1.{tt}").status_code)

    threads = [threading.Thread(target=post_one, args=(tt,)) for tt in types]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses).count(201) == 1 and set(statuses) <= {201, 409, 503}
    assert table_counts()[0] == 1


# --- live holds per client address ----------------------------------------------------

def test_a_client_address_has_at_most_the_events_cap_of_live_holds(app, client, make_event, frozen, table_counts):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 50}, hold_minutes=10)
    with app.app_context():
        assert db.session.get(Event, event_id).max_holds_per_client == 4  # the default
    limits(app, event_id, max_holds_per_client=2)
    assert api(client, {ga: 5}, "a@example.test").status_code == 201
    frozen.advance(timedelta(minutes=1))
    assert form(client, {ga: 5}, "b@example.test").status_code == 303

    refused = api(client, {ga: 5}, "c@example.test")
    page = form(app.test_client(), {ga: 5}, "d@example.test", headers=HX)

    assert refused.status_code == 429 and refused.json["error"]["code"] == "too_many_holds"
    assert refused.json["error"]["message"] == ("Too many reservations from your connection for this event; "
                                                "pay for or release one first.")
    assert refused.headers["Retry-After"] == str(9 * 60)  # when the earlier of its holds lapses
    assert page.status_code == 429 and "pay for or release one first" in page.get_data(as_text=True)
    assert table_counts()[0] == 2
    assert api(client, {ga: 5}, "c@example.test", addr=BOB).status_code == 201  # another connection
    frozen.advance(timedelta(minutes=9))  # the first hold lapsed: room for one more
    assert api(client, {ga: 5}, "c2@example.test").status_code == 201


# --- the cool-down after a release -----------------------------------------------------

def test_a_buyer_who_released_waits_the_cooldown_before_holding_again(app, client, make_event, frozen, table_counts):
    _, (ga,) = make_event({"name": "GA", "capacity": 4, "per_order_limit": 4})
    location = form(client, {ga: 4}, "ann@example.test").headers["Location"]
    page = client.get(location).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"{location}/release", data={"csrf_token": token},
                       environ_base={"REMOTE_ADDR": ALICE}).status_code == 303
    frozen.advance(timedelta(seconds=1))
    before = table_counts()

    same_email = form(app.test_client(), {ga: 4}, "ANN@example.test", addr=BOB, headers=HX)
    same_address = api(client, {ga: 4}, "alias@example.test")

    assert same_email.status_code == 429 and same_email.headers["Retry-After"] == "59"
    assert "You released tickets a moment ago; you can reserve again in 59 seconds." in same_email.get_data(
        as_text=True)
    assert same_address.status_code == 429 and same_address.json["error"]["code"] == "release_cooldown"
    assert same_address.headers["Retry-After"] == "59"
    assert table_counts() == before
    frozen.advance(timedelta(seconds=58))
    assert api(client, {ga: 4}, "ann@example.test").json["error"]["message"].endswith("again in 1 second.")
    frozen.advance(timedelta(seconds=1))
    assert api(client, {ga: 4}, "ann@example.test").status_code == 201


def test_a_release_by_the_organizer_starts_no_cooldown(app, ctx, make_event):
    _, (ga,) = make_event()
    order = reserving.reserve("rush", {ga: 1}, "ann@example.test", client_address=ALICE)
    reserving.release(order, actor="organizer:org@example.test")
    assert reserving.reserve("rush", {ga: 1}, "ann@example.test", client_address=ALICE).email == "ann@example.test"


# --- the organizer sets the limits --------------------------------------------------

def test_an_organizer_can_switch_the_cap_and_the_cooldown_off(app, client, frozen):
    with app.app_context():
        add_organizer("owner@example.test")
    owner = app.test_client()
    assert sign_in(owner, "owner@example.test").status_code == 302
    new_form = owner.get("/dashboard/events/new").get_data(as_text=True)
    assert re.search(r'name="max_holds_per_client"[^>]*value="4"', new_form)
    assert re.search(r'name="release_cooldown_seconds"[^>]*value="60"', new_form)
    created = post(owner, "/dashboard/events/new", {
        "title": "Open house", "slug": "open", "timezone": "UTC", "starts_at": "2027-06-01T19:00",
        "hold_minutes": "15", "pending_payment_hours": "72", "currency": "EUR", "locale": "en", "published": "y",
        "max_holds_per_client": "", "release_cooldown_seconds": "0"})
    assert created.status_code == 302
    with app.app_context():
        event = db.session.scalars(select(Event).where(Event.slug == "open")).one()
        assert (event.max_holds_per_client, event.release_cooldown_seconds) == (0, 0)
        event_id = event.id
    ticket = post(owner, f"/dashboard/events/{event_id}/ticket-types/new", {
        "name": "GA", "price": "10", "capacity": "100", "per_order_limit": "4"})
    assert ticket.status_code == 302
    with app.app_context():
        ga = db.session.get(Event, event_id).ticket_types[0].id

    assert [api(client, {ga: 1}, f"b{i}@example.test", slug="open").status_code for i in range(6)] == [201] * 6
    released = client.delete(f"{API}/reservations/{holds(app, 'b0@example.test')[0].token}")
    assert released.status_code == 200
    assert api(client, {ga: 1}, "b0@example.test", slug="open").status_code == 201  # no cool-down


def test_bad_limits_on_the_event_form_are_refused(app):
    with app.app_context():
        add_organizer("owner@example.test")
    owner = app.test_client()
    sign_in(owner, "owner@example.test")
    response = post(owner, "/dashboard/events/new", {
        "title": "X", "slug": "x", "timezone": "UTC", "starts_at": "2027-06-01T19:00", "hold_minutes": "15",
        "pending_payment_hours": "72", "currency": "EUR", "locale": "en",
        "max_holds_per_client": "-1", "release_cooldown_seconds": "-5"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Between 0 (no limit) and 10000." in page
    assert "Between 0 (no wait) and 86400 seconds." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    assert csrf_token(owner)  # the form is still there to fix

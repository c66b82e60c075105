"""Every HTML form, fed whatever hypothesis makes of its fields: unicode, control characters,
huge and tiny numbers, dates at the edges of the calendar, ids past the database's integers.
Posted with a valid CSRF token, as a signed-in organizer where the form needs one.

Whatever comes in: never a 5xx, and a 4xx changes no row of any table."""
from __future__ import annotations

import collections
import re
from datetime import datetime

import pytest
from dashboard_helpers import csrf_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from eventsite.domain.models import Base
from eventsite.infra.db import db

EXAMPLES = 150  # per form (11 forms and variants): about 45 s for the file
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Any text a browser can send (no lone surrogates: they cannot be encoded), control characters included.
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
EDGES = st.sampled_from(["", " ", "\n", "\x00", "\x7f", "\u202e", "\ufeff", "é" * 300, "x" * 5000, "🎟️" * 100])
TEXT = st.one_of(ANY_TEXT, EDGES)
NUMBER = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "1", "-1", "2147483647", "2147483648", "9" * 5000, "NaN", "sNaN", "-Infinity", "1e999",
                     "1e-999", "0.001", "²", "٣", "1_000", "0x10", " 5 ", "25,50", "+3", "-0"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    TEXT,
)


def _local(moment: datetime, date_only: bool = False) -> str:
    # Written by hand: strftime drops the leading zeros of years before 1000 on glibc.
    day = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    return day if date_only else f"{day}T{moment.hour:02d}:{moment.minute:02d}"


CALENDAR = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59))
EDGE_DAYS = st.sampled_from([datetime(1, 1, 1), datetime(1, 1, 1, 23, 59), datetime(9999, 12, 31, 23, 59),
                             datetime(9999, 12, 31), datetime(2026, 3, 29, 2, 30), datetime(2000, 2, 29)])
LOCAL_TIME = st.one_of(st.one_of(CALENDAR, EDGE_DAYS).map(_local), TEXT)
DAY = st.one_of(st.one_of(CALENDAR, EDGE_DAYS).map(lambda d: _local(d, date_only=True)), TEXT)
ZONE = st.one_of(st.sampled_from(["UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Pacific/Kiritimati",
                                  "Etc/GMT+12", "Europe", "Europe/", "UTC\n", "../../etc/passwd", "posix/UTC"]), TEXT)
CURRENCY = st.one_of(st.sampled_from(["EUR", "JPY", "KWD", "CLF", "eur", "EUR\n", "XXX", "€", "EURO"]), TEXT)
LOCALE = st.one_of(st.sampled_from(["en", "de_DE", "ja-JP", "en\n", "xx_YY", "root", "und"]), TEXT)
EMAIL = st.one_of(st.emails().map(lambda e: e[:300]), st.sampled_from(
    ["@", "a@", "@b", "x@y", "  fan@example.test  ", "FAN@EXAMPLE.TEST", "a\n@example.test", "a@exämple.de",
     '"quoted"@example.test', "a" * 250 + "@example.test", "fan@localhost"]), TEXT)
ID = st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.sampled_from([0, 1, 2, 3, 2**31 - 1, 2**31, 2**63]))
CHOICE = st.one_of(st.sampled_from(["", "0", "1", "reserved", "confirmed", "expired", "payment_processing"]), TEXT)


@st.composite
def _fields(draw, valid: dict[str, str], **strategies) -> dict:
    """A form a browser would send, with up to three of its fields fuzzed or left out, and now
    and then a stray one: mostly-valid forms get past the first check and reach the services."""
    data = dict(valid)
    for name in draw(st.sets(st.sampled_from(sorted(strategies)), max_size=3)):
        value = draw(st.one_of(strategies[name], st.none()))
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    if draw(st.integers(0, 4)) == 0:
        data[draw(st.sampled_from(["stray", "_method", "endpoint", "event_id", "csrf"]))] = draw(TEXT)
    return data


@pytest.fixture
def counts(app):
    """Rows of every table, in one query."""
    tables = [table.name for table in Base.metadata.sorted_tables]
    query = text("SELECT " + ", ".join(f"(SELECT count(*) FROM {name})" for name in tables))

    def take() -> dict[str, int]:
        with app.app_context():
            return dict(zip(tables, db.session.execute(query).one(), strict=True))

    return take


# Answers per form (path's last segment), to show in a failure that the forms were reached.
SEEN: dict[str, collections.Counter] = {}


def _check(answer, before: dict, counts) -> None:
    assert answer.status_code < 500, answer.get_data(as_text=True)[:2000]
    if 400 <= answer.status_code < 500:
        assert counts() == before, answer.status_code


def _send(client, method: str, path: str, data: dict, token: str | None, counts):
    before = counts()
    if method == "GET":
        answer = client.get(path, query_string=data)
    else:
        answer = client.post(path, data={**data, **({"csrf_token": token} if token else {})})
    _check(answer, before, counts)
    SEEN.setdefault(path.rsplit("/", 1)[-1], collections.Counter())[answer.status_code] += 1
    return answer


def _reached(form: str) -> None:
    """The fuzzing got past the first check: some answers accepted the input, some refused it."""
    answers = SEEN.pop(form)
    assert any(code < 400 for code in answers) and any(code >= 400 for code in answers), answers


def _page_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', page).group(1)


# --- buyers ---------------------------------------------------------------------------------

def test_reserve_form(app, client, world, counts):
    token = _page_token(client, "/events/owned")
    ga, vip = world.ticket_type_ids
    stray_ids = st.one_of(st.just(world.other_ticket_type_id), ID, TEXT).map(lambda key: f"qty-{key}")

    @FUZZ
    @given(data=_fields({f"qty-{ga}": "1", "email": "fan@example.test"},
                        email=EMAIL, **{f"qty-{ga}": NUMBER, f"qty-{vip}": NUMBER}),
           strays=st.dictionaries(stray_ids, NUMBER, max_size=2))
    def run(data, strays):
        _send(client, "POST", "/events/owned/reserve", {**data, **strays}, token, counts)

    run()
    _reached("reserve")


def test_join_the_waiting_list_form(app, client, world, counts, make_event):
    _, [full] = make_event({"name": "GA", "capacity": 0, "per_order_limit": 4}, slug="full")
    token = _page_token(client, "/events/full")

    @FUZZ
    @given(data=_fields({"ticket_type_id": str(full), "quantity": "2", "email": "fan@example.test"},
                        ticket_type_id=st.one_of(st.just(str(world.other_ticket_type_id)), ID, TEXT),
                        quantity=NUMBER, email=EMAIL))
    def run(data):
        _send(client, "POST", "/events/full/waitlist", data, token, counts)

    run()
    _reached("waitlist")


def test_find_my_tickets_form(app, client, world, counts):
    token = _page_token(client, "/tickets")

    @FUZZ
    @given(data=_fields({"email": "payer@example.test"}, email=EMAIL))
    def run(data):
        _send(client, "POST", "/tickets", data, token, counts)

    run()
    _reached("tickets")


# --- organizers: accounts ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/dashboard/signup", "/dashboard/login"])
def test_signup_and_login_forms(app, world, counts, path):
    client = app.test_client()
    token = csrf_token(client, path)

    @FUZZ
    @given(data=_fields({"name": "New", "email": "new@example.test", "password": "violet tangerine quarry 1987"},
                        name=TEXT, email=EMAIL, password=TEXT))
    def run(data):
        _send(client, "POST", path, data, token, counts)

    run()
    assert SEEN[path.rsplit("/", 1)[-1]], "no answers"


# --- organizers: events, ticket types, orders, the door -------------------------------------------

EVENT_FIELDS = dict(title=TEXT, slug=st.one_of(st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}\Z"), TEXT),
                    timezone=ZONE, venue=TEXT, starts_at=LOCAL_TIME, ends_at=LOCAL_TIME, description=TEXT,
                    hold_minutes=NUMBER, pending_payment_hours=NUMBER, max_holds_per_client=NUMBER,
                    release_cooldown_seconds=NUMBER, offer_minutes=NUMBER, renewal_minutes=NUMBER,
                    max_renewals=NUMBER, waitlist_partial_offers=CHOICE, currency=CURRENCY, locale=LOCALE,
                    published=CHOICE)
EVENT = {"title": "Gala", "slug": "gala", "timezone": "Europe/Berlin", "venue": "Hall",
         "starts_at": "2026-12-01T19:30", "ends_at": "2026-12-01T23:00", "hold_minutes": "10",
         "pending_payment_hours": "48", "max_holds_per_client": "4", "release_cooldown_seconds": "60",
         "offer_minutes": "10", "renewal_minutes": "5", "max_renewals": "10", "waitlist_partial_offers": "y",
         "description": "", "currency": "EUR", "locale": "en", "published": "y"}
TICKET = {"name": "Early", "price": "25.50", "capacity": "100", "per_order_limit": "4",
          "sales_start": "2026-11-01T09:00", "sales_end": "2026-11-30T18:00"}
TICKET_FIELDS = dict(name=TEXT, price=NUMBER, capacity=NUMBER, per_order_limit=NUMBER, sales_start=LOCAL_TIME,
                     sales_end=LOCAL_TIME)


@pytest.mark.parametrize("which", ["new", "edit"])
def test_event_form(app, world, owner, counts, which):
    token = csrf_token(owner, "/dashboard/")
    path = "/dashboard/events/new" if which == "new" else f"/dashboard/events/{world.event_id}/edit"

    @FUZZ
    @given(data=_fields(EVENT, **EVENT_FIELDS))
    def run(data):
        _send(owner, "POST", path, data, token, counts)

    run()
    _reached(which)


@pytest.mark.parametrize("which", ["new", "edit"])
def test_ticket_type_form(app, world, owner, counts, which):
    token = csrf_token(owner, "/dashboard/")
    tt = world.ticket_type_ids[0]
    path = (f"/dashboard/events/{world.event_id}/ticket-types/new" if which == "new"
            else f"/dashboard/events/{world.event_id}/ticket-types/{tt}/edit")

    @FUZZ
    @given(data=_fields(TICKET, **TICKET_FIELDS))
    def run(data):
        _send(owner, "POST", path, data, token, counts)

    run()
    _reached(which)


def test_orders_filter(app, world, owner, counts):
    @FUZZ
    @given(data=_fields({"status": "reserved", "email": "example"},
                        status=CHOICE, ticket_type=st.one_of(ID.map(str), TEXT), email=TEXT,
                        created_from=DAY, created_until=DAY, page=NUMBER, event_id=TEXT))
    def run(data):
        _send(owner, "GET", f"/dashboard/events/{world.event_id}/orders", data, None, counts)

    run()
    _reached("orders")


def test_refund_release_and_publication_buttons(app, world, owner, counts):
    token = csrf_token(owner, "/dashboard/")
    orders = st.one_of(st.sampled_from([world.held_order_id, world.paid_order_id, world.other_order_id]), ID)
    events = st.one_of(st.just(world.event_id), st.just(world.other_event_id), ID)

    @FUZZ
    @given(event=events, order=orders, action=st.sampled_from(["refund", "release", "publication"]),
           data=_fields({"published": "1"}, published=CHOICE))
    def run(event, order, action, data):
        path = (f"/dashboard/events/{event}/publication" if action == "publication"
                else f"/dashboard/events/{event}/orders/{order}/{action}")
        _send(owner, "POST", path, data, token, counts)

    run()
    _reached("publication")


def test_checkin_typed_code(app, world, owner, counts):
    token = csrf_token(owner, "/dashboard/")
    code = st.one_of(TEXT, st.sampled_from(["ES-1-1-abc", f"ES-{world.paid_order_id}-1-x", "ES-99999999999-1-x",
                                            "ES--1-0-", "ES-1-99999999999999999999-a"]))

    @FUZZ
    @given(data=_fields({"code": "ES-1-1-abc", "device": "Door 1"}, code=code, device=TEXT))
    def run(data):
        _send(owner, "POST", f"/dashboard/events/{world.event_id}/checkin", data, token, counts)

    run()
    _reached("checkin")

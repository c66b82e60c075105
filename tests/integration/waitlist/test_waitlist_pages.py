"""The waiting list's buyer pages through the Flask test client, against PostgreSQL, Redis
and SMTP: joining from the event page, every refusal, the waiting page in each state, its
poll, and leaving."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fixtures_mail import text_of
from shop_support import HX, csrf_from, hold_for_other  # noqa: F401 (fixtures)
from sqlalchemy import func, select

from eventsite import create_app
from eventsite.domain.models import Order, TicketType, WaitlistEntry, WaitlistStatus
from eventsite.infra.db import db
from eventsite.services import paying, waitlist


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def status_line(html: str, tt_id: int) -> str:
    match = re.search(rf'id="status-{tt_id}">(.*?)</p>', html, re.S)
    assert match, f"no status line for ticket type {tt_id}"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


def live_part(html: str) -> str:
    match = re.search(r'<section id="waiting-live".*?</section>', html, re.S)
    assert match, "no live part on the waiting page"
    return match.group(0)


def join_options(html: str, tt_id: int) -> list[str]:
    match = re.search(rf'<select id="join-qty-{tt_id}".*?</select>', html, re.S)
    return re.findall(r'<option value="(\d+)"', match.group(0)) if match else []


def entries(app) -> list[tuple[str, int, WaitlistStatus]]:
    with app.app_context():
        return [(e.email, e.quantity, e.status) for e in db.session.scalars(select(WaitlistEntry).order_by("id"))]


def entry_token(app, email: str) -> str:
    with app.app_context():
        return db.session.scalar(select(WaitlistEntry.token).where(WaitlistEntry.email == email))


def offer_of(app, email: str) -> Order:
    with app.app_context():
        return db.session.scalar(select(Order).where(Order.email == email, Order.waitlist_entry_id.is_not(None)))


@pytest.fixture
def join(client):
    """Submit an event page's "Join the waiting list" form, as that page renders it."""

    def post(tt_id, quantity=1, email="wen@example.test", *, slug="rush", headers=None, csrf=True, http=None):
        http = http or client
        form = {"ticket_type_id": str(tt_id), "quantity": str(quantity), "email": email}
        if csrf:
            form["csrf_token"] = csrf_from(http.get(f"/events/{slug}").text)
        return http.post(f"/events/{slug}/waitlist", data=form, headers=headers or {})

    return post


@pytest.fixture
def all_reserved(make_event, hold_for_other, frozen, rq_redis):
    """GA: its only ticket held by a@ for 15 minutes; VIP: plenty left."""
    event_id, (ga, vip) = make_event({"name": "GA", "capacity": 1, "per_order_limit": 3},
                                     {"name": "VIP", "capacity": 5, "per_order_limit": 2})
    hold_for_other(event_id, {ga: 1}, email="a@example.test")
    return event_id, ga, vip


# --- joining from the event page ------------------------------------------------------

def test_a_buyer_turned_away_joins_from_the_event_page_and_lands_on_their_place(
        app, client, join, all_reserved, run_jobs, inbox):
    _, ga, vip = all_reserved
    page = client.get("/events/rush").text
    assert status_line(page, ga) == "All remaining tickets are reserved — check back in 15:00"
    assert join_options(page, ga) == ["1", "2", "3"]  # the per-order limit
    assert join_options(page, vip) == []  # tickets are there: reserve them
    assert re.search(rf'<form id="join-{ga}" method="post" action="/events/rush/waitlist".*?'
                     rf'name="csrf_token" value="[^"]+".*?name="ticket_type_id" value="{ga}"', page, re.S)
    assert f'id="join-email-{ga}" form="join-{ga}"' in page and f'form="join-{ga}" id="join-submit-{ga}"' in page

    response = join(ga, 2, " Wen@Example.TEST ")
    assert response.status_code == 303
    token = entry_token(app, "wen@example.test")
    assert response.headers["Location"] == f"/w/{token}"
    assert entries(app) == [("wen@example.test", 2, WaitlistStatus.WAITING)]

    place = client.get(f"/w/{token}")
    assert place.status_code == 200
    assert place.headers["Cache-Control"] == "no-store" and place.headers["Referrer-Policy"] == "no-referrer"
    shown = text(place.text)
    assert "You asked for 2 GA tickets, for wen@example.test." in shown
    assert "You are 1st in line" in shown and 'class="event-details"' in place.text
    assert "1 ticket is held by other buyers; the earliest hold ends in 15:00." in shown

    # What comes back now goes to the line, so the public is not told to check back.
    assert status_line(client.get("/events/rush").text, ga) == "Sold out · 1 person on the waiting list"
    run_jobs()
    [joined] = inbox.to("wen@example.test")
    assert f"/w/{token}" in text_of(joined)


def test_joining_through_htmx_sends_the_whole_page_to_the_place(app, join, all_reserved):
    _, ga, _ = all_reserved
    response = join(ga, headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/w/{entry_token(app, 'wen@example.test')}"


def test_the_fragment_changes_when_people_join_even_for_shared_watchers(client, join, all_reserved):
    _, ga, _ = all_reserved
    first = client.get("/events/rush/availability", headers=HX)
    assert client.get("/events/rush/availability", headers={**HX, "If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    assert join(ga, 1, "w1@example.test").status_code == 303
    changed = client.get("/events/rush/availability", headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert status_line(changed.text, ga).endswith("· 1 person on the waiting list")
    assert join(ga, 1, "w2@example.test").status_code == 303
    watcher = client.application.test_client()  # another browser: no session, the shared rendering
    assert status_line(watcher.get("/events/rush/availability", headers=HX).text, ga).endswith(
        "· 2 people on the waiting list")
    assert "GA: Sold out · 2 people on the waiting list." in text(
        watcher.get("/events/rush/availability", headers=HX).text)  # the screen reader's summary too


def test_every_refusal_is_a_4xx_with_its_message_and_changes_nothing(
        app, client, join, all_reserved, table_counts):
    _, ga, vip = all_reserved
    assert join(ga, 1, "wen@example.test").status_code == 303
    before = (entries(app), table_counts())
    cases = [
        (dict(tt_id=ga, quantity=0), 422, "Choose between 1 and 3 GA tickets."),
        (dict(tt_id=ga, quantity=4), 422, "Choose between 1 and 3 GA tickets."),
        (dict(tt_id=ga, quantity="two"), 422, "Choose a whole number of tickets."),
        (dict(tt_id="", quantity=1), 422, "Choose a ticket type."),
        (dict(tt_id=ga + 100, quantity=1), 404, "That ticket type is not part of this event."),
        (dict(tt_id=ga, quantity=1, email="not-an-email"), 422, "Enter a valid email address."),
        (dict(tt_id=ga, quantity=2, email="WEN@example.test"), 409,
         "wen@example.test is already on the waiting list for GA"),
        (dict(tt_id=vip, quantity=1, email="v@example.test"), 409,
         "5 VIP tickets are available right now: reserve them instead of waiting."),
        (dict(tt_id=ga, quantity=1, email="x@example.test", csrf=False), 400, "This form has expired"),
    ]
    for kwargs, status, message in cases:
        kwargs.setdefault("email", "new@example.test")
        response = join(kwargs.pop("tt_id"), headers=HX, **kwargs)
        assert (response.status_code, message in text(response.text)) == (status, True), (message, response.text)
        assert "<html" not in response.text and "HX-Redirect" not in response.headers
    full_page = join(ga, 9, "kim@example.test")  # without htmx: the event page again, with the message
    assert full_page.status_code == 422 and "<html" in full_page.text
    assert "Choose between 1 and 3 GA tickets." in text(full_page.text)
    assert f'id="join-email-{ga}" form="join-{ga}" type="email" name="email" required autocomplete="email"' \
           in full_page.text and 'value="kim@example.test"' in full_page.text  # what was typed is kept
    assert (entries(app), table_counts()) == before


def test_a_paused_or_closed_line_offers_no_form_and_refuses_joins(app, client, join, all_reserved):
    _, ga, _ = all_reserved
    with app.app_context():
        waitlist.set_state(db.session.get(TicketType, ga), "paused")
    page = client.get("/events/rush").text
    assert status_line(page, ga).endswith("· the waiting list is paused") and join_options(page, ga) == []
    refused = join(ga, headers=HX)
    assert refused.status_code == 409 and "The waiting list for GA is paused" in text(refused.text)
    with app.app_context():
        waitlist.set_state(db.session.get(TicketType, ga), "closed")
    assert join_options(client.get("/events/rush").text, ga) == []
    refused = join(ga, headers=HX)
    assert refused.status_code == 409 and "The waiting list for GA is closed" in text(refused.text)
    assert entries(app) == []


@pytest.fixture
def limited_app(limited):
    """The reservation budget on (2 per hour)."""
    return limited(RESERVE_RATE_LIMIT="2/hour")


def test_joining_spends_the_same_budget_as_reserving(app, limited_app, join, all_reserved):
    _, ga, vip = all_reserved
    http = limited_app.test_client()
    token = csrf_from(http.get("/events/rush").text)
    reserved = http.post("/events/rush/reserve", data={"csrf_token": token, "email": "r@example.test",
                                                        f"qty-{vip}": "1"})
    assert reserved.status_code == 303
    assert join(ga, 1, "j1@example.test", http=http).status_code == 303
    refused = join(ga, 1, "j2@example.test", http=http, headers=HX)
    assert refused.status_code == 429 and "Too many reservation attempts" in text(refused.text)
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert [email for email, _, _ in entries(app)] == ["j1@example.test"]


# --- the waiting page -------------------------------------------------------------------

def test_a_lapsed_hold_is_promised_to_the_line_at_its_instant_then_offered(
        app, client, join, all_reserved, frozen, run_due, run_jobs):
    _, ga, _ = all_reserved
    join(ga, 1, "w1@example.test")
    join(ga, 1, "w2@example.test")
    first, second = entry_token(app, "w1@example.test"), entry_token(app, "w2@example.test")
    assert "You are 2nd in line" in text(client.get(f"/w/{second}").text)
    polled = client.get(f"/w/{first}/status", headers=HX)
    assert polled.status_code == 200 and "<html" not in polled.text
    assert f'hx-get="/w/{first}/status"' in polled.text and "every 5s" in polled.text  # the event page's interval
    assert client.get(f"/w/{first}/status", headers={**HX, "If-None-Match": polled.headers["ETag"]}
                      ).status_code == 304

    frozen.advance(timedelta(minutes=15))  # a@'s hold lapses now; no job has run
    page = client.get("/events/rush").text
    assert status_line(page, ga) == "Sold out · 2 people on the waiting list"
    assert f'id="qty-{ga}"' not in page and "available" not in status_line(page, ga)
    refused = client.post("/events/rush/reserve", data={"csrf_token": csrf_from(page), "email": "p@example.test",
                                                         f"qty-{ga}": "1"}, headers=HX)
    assert refused.status_code == 409 and "waiting list" in text(refused.text)
    changed = client.get(f"/w/{first}/status", headers={**HX, "If-None-Match": polled.headers["ETag"]})
    assert changed.status_code == 200
    assert "1 ticket came back for the waiting list: offered in line order within seconds." in text(changed.text)
    assert "every 1s" in changed.text  # the head's offer is a job away: it asks every second
    assert "every 5s" in client.get(f"/w/{second}/status", headers=HX).text  # not its turn yet

    run_due()  # the expiry job, which prompts the offer
    run_jobs("default")
    offer = offer_of(app, "w1@example.test")
    offered = text(live_part(client.get(f"/w/{first}").text))
    assert "Your tickets are reserved for you — pay within 10:00" in offered
    assert f'href="/r/{offer.token}"' in client.get(f"/w/{first}/status", headers=HX).text
    assert "You are 1st in line" in text(client.get(f"/w/{second}").text)


def test_an_offer_not_taken_lapses_on_the_page_and_passes_on(
        app, client, join, all_reserved, frozen, run_due, run_jobs):
    _, ga, _ = all_reserved
    join(ga, 1, "w1@example.test")
    join(ga, 1, "w2@example.test")
    first, second = entry_token(app, "w1@example.test"), entry_token(app, "w2@example.test")
    frozen.advance(timedelta(minutes=15))
    run_due()
    run_jobs("default")
    frozen.advance(timedelta(minutes=10))  # the offer lapses at this instant, before any job
    lapsed = client.get(f"/w/{first}/status", headers=HX).text
    assert "Your offer ended without payment The tickets went to the next person in line." in text(lapsed)
    assert "hx-get" not in lapsed and 'href="/events/rush"' in lapsed  # final: no more polling; a way back
    run_due()
    run_jobs("default")
    assert "Your tickets are reserved for you — pay within 10:00" in text(client.get(f"/w/{second}").text)


def test_an_offer_paid_for_shows_as_bought_with_a_link_to_the_order(
        app, client, join, all_reserved, frozen, run_due, run_jobs):
    _, ga, _ = all_reserved
    join(ga, 1, "w1@example.test")
    token = entry_token(app, "w1@example.test")
    frozen.advance(timedelta(minutes=15))
    run_due()
    run_jobs("default")
    offer = offer_of(app, "w1@example.test")
    with app.app_context():
        assert paying.confirm_payment(offer.id, reason="paid", actor="test")
    bought = live_part(client.get(f"/w/{token}").text)
    assert "You bought these tickets" in text(bought) and f'href="/r/{offer.token}"' in bought
    assert "hx-get" not in bought


def test_leaving_asks_first_then_gives_up_the_place(app, client, join, all_reserved):
    _, ga, _ = all_reserved
    join(ga, 1, "w1@example.test")
    join(ga, 1, "w2@example.test")
    token, behind = entry_token(app, "w1@example.test"), entry_token(app, "w2@example.test")
    page = client.get(f"/w/{token}").text
    assert f'<a href="/w/{token}/leave">Leave the waiting list</a>' in page
    confirm = client.get(f"/w/{token}/leave")
    assert confirm.status_code == 200 and confirm.headers["Cache-Control"] == "no-store"
    shown = text(confirm.text)
    assert "Leave the waiting list? You are 1st in line." in shown and "No, keep my place" in shown
    assert entries(app)[0][2] == WaitlistStatus.WAITING  # asking changes nothing

    assert client.post(f"/w/{token}/leave").status_code == 400  # no CSRF token
    assert entries(app)[0][2] == WaitlistStatus.WAITING
    left = client.post(f"/w/{token}/leave", data={"csrf_token": csrf_from(confirm.text)})
    assert (left.status_code, left.headers["Location"]) == (303, f"/w/{token}")
    assert "You left the waiting list" in text(client.get(f"/w/{token}").text)
    assert entries(app)[0][2] == WaitlistStatus.LEFT
    assert "You are 1st in line" in text(client.get(f"/w/{behind}").text)
    assert client.get(f"/w/{token}/leave").headers["Location"] == f"/w/{token}"  # nothing left to confirm


def test_leaving_with_an_offer_out_is_refused_and_shows_the_offer(
        app, client, join, all_reserved, frozen, run_due, run_jobs):
    _, ga, _ = all_reserved
    join(ga, 1, "w1@example.test")
    token = entry_token(app, "w1@example.test")
    csrf = csrf_from(client.get(f"/w/{token}/leave").text)
    frozen.advance(timedelta(minutes=15))
    run_due()
    run_jobs("default")
    refused = client.post(f"/w/{token}/leave", data={"csrf_token": csrf})
    assert refused.status_code == 409
    shown = text(refused.text)
    assert "You already have an offer: pay for it, or release it on its page." in shown
    assert "Your tickets are reserved for you — pay within 10:00" in shown
    assert offer_of(app, "w1@example.test").status.value == "reserved"


def test_a_closed_line_says_so_on_the_place(app, client, join, all_reserved):
    _, ga, _ = all_reserved
    join(ga, 2, "w1@example.test")
    with app.app_context():
        waitlist.set_state(db.session.get(TicketType, ga), "closed")
    closed = live_part(client.get(f"/w/{entry_token(app, 'w1@example.test')}").text)
    assert "The organizer closed the waiting list for GA; your place in it has ended." in text(closed)


def test_an_unknown_place_is_404(app, client, make_event):
    make_event()
    for url in ("/w/nope", "/w/nope/status", "/w/nope/leave"):
        response = client.get(url)
        assert response.status_code == 404 and "There is no such place on a waiting list." in response.text, url
    csrf = csrf_from(client.get("/events/rush").text)
    assert client.post("/w/nope/leave", data={"csrf_token": csrf}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0

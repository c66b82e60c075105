"""Buyer pages through the Flask test client: every state the event page, the
availability fragment and the reservation page can be in, and the bad requests."""
from __future__ import annotations

import re
from datetime import timedelta

from shop_support import HX, buyer, csrf_from, hold_for_other  # noqa: F401 (fixtures)

from eventsite.domain import state_machine
from eventsite.domain.models import Order, OrderStatus
from eventsite.infra.db import db
from eventsite.infra.transactions import write_transaction
from eventsite.readmodels import lookups
from eventsite.services import paying


def status_line(html: str, tt_id: int) -> str:
    match = re.search(rf'id="status-{tt_id}">(.*?)</p>', html, re.S)
    assert match, f"no status line for ticket type {tt_id}"
    return re.sub(r"<[^>]+>", "", " ".join(match.group(1).split()))


def quantity_options(html: str, tt_id: int) -> list[str]:
    match = re.search(rf'<select id="qty-{tt_id}".*?</select>', html, re.S)
    return re.findall(r'<option value="(\d+)"', match.group(0)) if match else []


# --- event list and event page ---------------------------------------------------

def test_event_list_shows_published_events_with_their_sales_status(client, frozen, make_event):
    make_event(slug="open-night")
    make_event({"name": "GA", "capacity": 5, "sales_start": frozen.now() + timedelta(days=2)}, slug="later")
    make_event({"name": "GA", "capacity": 5, "sales_end": frozen.now()}, slug="closed")
    make_event(slug="draft", published=False)
    cards = re.findall(r'<article class="event-card">.*?>(Event [\w-]+)</a>.*?class="badge[^"]*">([^<]+)<',
                       client.get("/").text, re.S)
    assert sorted(cards) == [("Event closed", "Sales closed"), ("Event later", "Coming soon"),
                             ("Event open-night", "On sale")]  # the draft is not listed
    frozen.advance(timedelta(days=30, seconds=1))  # they have all started
    assert "No events on sale right now." in client.get("/").text


def test_event_page_offers_quantities_bounded_by_limit_and_availability(client, frozen, make_event, hold_for_other):
    event_id, (ga, vip) = make_event({"name": "GA", "capacity": 10, "per_order_limit": 4},
                                     {"name": "VIP", "capacity": 3, "per_order_limit": 5, "price": 7500})
    hold_for_other(event_id, {vip: 1})
    html = client.get("/events/rush").text
    assert status_line(html, ga) == "10 tickets available"
    assert quantity_options(html, ga) == ["0", "1", "2", "3", "4"]  # per-order limit
    assert status_line(html, vip) == "2 tickets available (1 reserved by others)"
    assert quantity_options(html, vip) == ["0", "1", "2"]  # what is left
    assert "€75.00" in html and '<label class="ticket-qty" for="qty-' in html


def test_unknown_or_unpublished_event_is_404(client, make_event):
    make_event(slug="draft", published=False)
    assert client.get("/events/draft").status_code == 404
    assert client.get("/events/nope/availability").status_code == 404


# --- the availability fragment -------------------------------------------------------

def test_fragment_available_without_and_with_others_holds(client, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 10})
    first = client.get("/events/rush/availability", headers=HX)
    assert first.status_code == 200 and "<html" not in first.text
    assert status_line(first.text, ga) == "10 tickets available"
    hold_for_other(event_id, {ga: 3})
    second = client.get("/events/rush/availability", headers=HX)
    assert status_line(second.text, ga) == "7 tickets available (3 reserved by others)"
    assert "Availability updated. GA: 7 tickets available (3 reserved by others)." in " ".join(second.text.split())


def test_fragment_says_sold_out_when_every_ticket_is_sold(app, client, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    token = hold_for_other(event_id, {ga: 2})
    with app.app_context():
        paying.confirm_payment(lookups.order_by_token(token).id, reason="paid", actor="test")
    html = client.get("/events/rush/availability", headers=HX).text
    assert status_line(html, ga) == "Sold out"
    assert quantity_options(html, ga) == []


def test_fragment_says_all_reserved_with_minutes_and_seconds_until_the_first_release(
        client, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    hold_for_other(event_id, {ga: 1})
    frozen.advance(timedelta(minutes=1))
    hold_for_other(event_id, {ga: 1}, email="third@example.test")
    frozen.advance(timedelta(minutes=2, seconds=30))
    html = client.get("/events/rush/availability", headers=HX).text
    # The earliest hold lapses 15:00 after it was placed, 3:30 ago.
    assert status_line(html, ga) == "All remaining tickets are reserved — check back in 11:30"
    assert 'data-expires-at="2026-06-01T12:15:00.000+00:00"' in html
    assert quantity_options(html, ga) == []


def test_fragment_shows_a_buyer_their_own_hold(buyer, frozen, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 3})
    buyer.reserve({ga: 2})
    html = buyer.http.get("/events/rush/availability", headers=HX).text
    assert status_line(html, ga) == "1 ticket available · 2 reserved for you"
    page = buyer.http.get("/events/rush").text
    assert "Go to your reservation" in page


def test_fragment_says_sales_closed_and_not_yet_open(client, frozen, make_event):
    _, (past, future) = make_event(
        {"name": "Early bird", "capacity": 5, "sales_end": frozen.now() - timedelta(minutes=1)},
        {"name": "Late", "capacity": 5, "sales_start": frozen.now() + timedelta(days=1)})
    html = client.get("/events/rush/availability", headers=HX).text
    assert status_line(html, past) == "Sales closed"
    assert status_line(html, future) == "On sale from Tue 02 Jun 2026, 12:00 UTC"
    assert quantity_options(html, past) == [] and quantity_options(html, future) == []


def test_unchanged_fragment_is_answered_304_until_the_figures_change(client, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 10})
    first = client.get("/events/rush/availability", headers=HX)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and f'"If-None-Match": "{etag.replace(chr(34), chr(92) + chr(34))}"' in first.text
    again = client.get(f"/events/rush/availability?qty-{ga}=3", headers={**HX, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""  # the buyer's picks do not change the figures
    frozen.advance(timedelta(seconds=30))
    assert client.get("/events/rush/availability", headers={**HX, "If-None-Match": etag}).status_code == 304
    hold_for_other(event_id, {ga: 1})
    changed = client.get("/events/rush/availability", headers={**HX, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert status_line(changed.text, ga) == "9 tickets available (1 reserved by others)"


def test_hold_lapsing_changes_the_fragment_without_any_job(client, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    hold_for_other(event_id, {ga: 1})
    held = client.get("/events/rush/availability", headers=HX)
    frozen.advance(timedelta(minutes=15))  # the hold lapses at exactly expires_at
    back = client.get("/events/rush/availability", headers={**HX, "If-None-Match": held.headers["ETag"]})
    assert back.status_code == 200 and status_line(back.text, ga) == "1 ticket available"


def test_changed_fragment_keeps_the_buyers_picks_within_the_new_bound(client, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5})
    hold_for_other(event_id, {ga: 3})
    html = client.get(f"/events/rush/availability?qty-{ga}=4", headers=HX).text
    assert quantity_options(html, ga) == ["0", "1", "2"]
    assert '<option value="2" selected>' in html  # 4 asked, 2 left


def test_poll_interval_comes_from_config_and_pauses_while_hidden(app, client, frozen, make_event):
    make_event()
    app.config["AVAILABILITY_POLL_SECONDS"] = 1
    try:
        html = client.get("/events/rush").text
    finally:
        app.config["AVAILABILITY_POLL_SECONDS"] = 5
    # Paused while hidden by static/site.js (htmx trigger filters would need eval, which the CSP forbids).
    assert 'hx-trigger="every 1s, visibilitychange from:document' in html


# --- reserving ---------------------------------------------------------------------

def test_reserving_lands_on_the_reservation_page_with_countdown_items_and_total(buyer, frozen, make_event):
    _, (ga, vip) = make_event({"name": "GA", "capacity": 10, "price": 2500},
                              {"name": "VIP", "capacity": 3, "price": 7500})
    response = buyer.reserve({ga: 2, vip: 1})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/r/[A-Za-z0-9_-]{32}", location)
    html = buyer.http.get(location).text
    assert "Reserved for you (expires in" in html and ">15:00</time>)" in html
    assert 'data-expires-at="2026-06-01T12:15:00.000+00:00"' in html
    assert "€125.00" in html and "Release these tickets" in html
    assert re.search(r"<td>GA</td><td>2</td>", html) and re.search(r"<td>VIP</td><td>1</td>", html)


def test_reserving_through_htmx_redirects_the_whole_page(buyer, frozen, make_event):
    _, (ga,) = make_event()
    response = buyer.reserve({ga: 1}, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"].startswith("/r/")


def test_quantity_above_the_limit_is_refused_and_changes_nothing(buyer, frozen, make_event, table_counts):
    _, (ga,) = make_event({"name": "GA", "capacity": 10, "per_order_limit": 4})
    response = buyer.reserve({ga: 5}, headers=HX)
    assert response.status_code == 422
    assert "At most 4 GA tickets per order." in response.text and 'role="alert"' in response.text
    assert "<html" not in response.text
    assert table_counts() == (0, 0, 0)


def test_bad_input_is_refused_with_a_clear_message(buyer, frozen, make_event, table_counts):
    _, (ga,) = make_event()
    cases = [({ga: "two"}, "ann@example.test", "Choose a whole number of tickets."),
             ({ga: 0}, "ann@example.test", "Choose at least one ticket."),
             ({ga: -1}, "ann@example.test", "Choose a whole number of GA tickets."),
             ({ga + 100: 1}, "ann@example.test", "That ticket type is not part of this event."),
             ({ga: 1}, "not-an-email", "Enter a valid email address.")]
    for quantities, email, message in cases:
        response = buyer.reserve(quantities, email=email, headers=HX)
        assert (response.status_code, message in response.text) == (422, True), message
    assert table_counts() == (0, 0, 0)


def test_sales_closed_while_choosing(buyer, frozen, make_event, table_counts):
    _, (ga,) = make_event({"name": "GA", "capacity": 10, "sales_end": frozen.now() + timedelta(minutes=5)})
    token = csrf_from(buyer.open_event().text)
    frozen.advance(timedelta(minutes=5))
    response = buyer.reserve({ga: 1}, headers=HX, token=token)
    assert response.status_code == 409 and "Sales for GA are closed." in response.text
    assert response.headers["HX-Trigger"] == "availability-stale"
    assert table_counts() == (0, 0, 0)


def test_sold_out_while_choosing(app, buyer, frozen, make_event, hold_for_other, table_counts):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    token = csrf_from(buyer.open_event().text)
    with app.app_context():
        paying.confirm_payment(lookups.order_by_token(hold_for_other(event_id, {ga: 1})).id,
                                  reason="paid", actor="test")
    before = table_counts()
    response = buyer.reserve({ga: 1}, headers=HX, token=token)
    assert response.status_code == 409 and 'data-error="sold_out"' in response.text
    assert response.headers["HX-Trigger"] == "availability-stale"  # the page refreshes its figures
    assert table_counts() == before


def test_all_reserved_while_choosing_says_when_to_check_back(buyer, frozen, make_event, hold_for_other, table_counts):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    hold_for_other(event_id, {ga: 1})
    frozen.advance(timedelta(minutes=5))
    before = table_counts()
    response = buyer.reserve({ga: 1}, headers=HX)
    assert response.status_code == 409
    assert 'data-error="all_reserved"' in response.text  # the verdict is the refreshed line's:
    refreshed = buyer.http.get(f"/events/rush/availability?qty-{ga}=1", headers=HX).text
    assert status_line(refreshed, ga) == "All remaining tickets are reserved — check back in 10:00"
    assert table_counts() == before


def test_refused_reservation_without_htmx_shows_the_page_again_with_the_message(buyer, frozen, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 10, "per_order_limit": 2})
    response = buyer.reserve({ga: 3}, email="kim@example.test")
    assert response.status_code == 422
    assert "<html" in response.text and "At most 2 GA tickets per order." in response.text
    assert 'value="kim@example.test"' in response.text and "Reserve</button>" in response.text


def test_stale_csrf_token_is_refused_as_a_fragment_and_changes_nothing(buyer, frozen, make_event, table_counts):
    _, (ga,) = make_event()
    response = buyer.reserve({ga: 1}, headers=HX, token="stale-token")
    assert response.status_code == 400
    assert "This form has expired" in response.text and "Reload the page" in response.text
    assert "<html" not in response.text
    full_page = buyer.reserve({ga: 1}, token="stale-token")
    assert full_page.status_code == 400 and "<html" in full_page.text and "This form has expired" in full_page.text
    assert table_counts() == (0, 0, 0)


def test_post_without_csrf_token_is_refused(client, frozen, make_event, table_counts):
    _, (ga,) = make_event()
    response = client.post("/events/rush/reserve", data={"email": "a@example.test", f"qty-{ga}": "1"})
    assert response.status_code == 400
    assert table_counts() == (0, 0, 0)


# --- the reservation page -------------------------------------------------------------

def test_status_fragment_resyncs_the_countdown_to_the_server_clock(buyer, frozen, make_event):
    _, (ga,) = make_event()
    location = buyer.reserve({ga: 1}).headers["Location"]
    frozen.advance(timedelta(minutes=4, seconds=20))
    response = buyer.http.get(f"{location}/status", headers=HX)
    assert response.status_code == 200 and "<html" not in response.text
    assert 'data-expires-at="2026-06-01T12:15:00.000+00:00"' in response.text
    assert 'data-server-now="2026-06-01T12:04:20.000+00:00"' in response.text
    assert 'data-seconds-left="640"' in response.text and ">10:40</time>" in response.text


def test_expired_reservation_page_offers_the_same_tickets_again(buyer, frozen, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 4})
    location = buyer.reserve({ga: 2}, email="ann@example.test").headers["Location"]
    frozen.advance(timedelta(minutes=15))
    status = buyer.http.get(f"{location}/status", headers=HX)
    assert status.headers["HX-Retarget"] == "#reservation" and status.headers["HX-Reswap"] == "outerHTML"
    for html in (status.text, buyer.http.get(location).text):
        assert "Your reservation expired" in html and "Nothing was charged." in html
        assert "<strong>GA</strong>: 4 tickets available" in html
        assert "Try again: reserve 2 tickets" in html and "Release these tickets" not in html
    again = buyer.http.post("/events/rush/reserve", data={
        "csrf_token": csrf_from(status.text), "email": "ann@example.test", f"qty-{ga}": "2"})
    assert again.status_code == 303 and again.headers["Location"] != location


def test_release_gives_the_tickets_back(app, buyer, frozen, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 3})
    location = buyer.reserve({ga: 3}).headers["Location"]
    page = buyer.http.get(location).text
    release_url = f"{location}/release"
    assert f'hx-get="{release_url}"' in page  # asks first (tests/integration/shop/test_shop_findings.py)
    response = buyer.http.post(release_url, data={"csrf_token": csrf_from(page)}, headers=HX)
    assert response.status_code == 200 and "You released this reservation" in response.text
    assert "<strong>GA</strong>: 3 tickets available" in response.text
    with app.app_context():
        order = lookups.order_by_token(location.rsplit("/", 1)[1])
        assert order.status == OrderStatus.CANCELLED
        assert [(h.from_status, h.to_status, h.actor) for h in order.history][-1] == (
            "reserved", "cancelled", "buyer:ann@example.test")
    # Twice is harmless; without htmx it lands on the page.
    again = buyer.http.post(release_url, data={"csrf_token": csrf_from(page)})
    assert again.status_code == 303 and again.headers["Location"] == location


def test_release_without_csrf_token_is_refused(app, buyer, frozen, make_event):
    _, (ga,) = make_event()
    location = buyer.reserve({ga: 1}).headers["Location"]
    assert buyer.http.post(f"{location}/release").status_code == 400
    with app.app_context():
        assert lookups.order_by_token(location.rsplit("/", 1)[1]).status == OrderStatus.RESERVED


def test_reservation_is_reachable_only_through_its_token(app, buyer, frozen, make_event):
    _, (ga,) = make_event()
    buyer.reserve({ga: 1})
    stranger = app.test_client()
    page = stranger.get("/events/rush").text
    assert "Go to your reservation" not in page and "/r/" not in page
    assert stranger.get("/r/not-a-real-token").status_code == 404
    assert stranger.get("/r/not-a-real-token/status").status_code == 404
    assert stranger.post("/r/not-a-real-token/release", data={"csrf_token": csrf_from(page)}).status_code == 404


def test_once_payment_started_the_payment_pages_take_over(app, buyer, frozen, make_event):
    _, (ga,) = make_event()
    location = buyer.reserve({ga: 1}).headers["Location"]
    token = location.rsplit("/", 1)[1]
    with app.app_context():
        with write_transaction():
            order = db.session.query(Order).filter_by(token=token).one()
            state_machine.transition(order, OrderStatus.PAYMENT_PROCESSING, reason="checkout started")
    # Checkout not finished: back to paying (the same place the "Preparing payment" poll leads).
    response = buyer.http.get(location)
    assert response.status_code == 303 and response.headers["Location"] == f"/r/{token}/pay"
    assert buyer.http.get(f"{location}/status", headers=HX).headers["HX-Redirect"] == f"/r/{token}/pay"
    with app.app_context():
        with write_transaction():
            db.session.query(Order).filter_by(token=token).one().payment_pending = True  # bank debit submitted
    assert buyer.http.get(location).headers["Location"] == f"/r/{token}/payment"
    with app.app_context():
        paying.confirm_payment(lookups.order_by_token(token).id, reason="paid", actor="test")
    assert buyer.http.get(location).headers["Location"] == f"/r/{token}/payment"

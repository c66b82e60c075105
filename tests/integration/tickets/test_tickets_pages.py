"""The buyer's ticket pages: the confirmation, the printable tickets, and the event details (with
its time zone) on the hold and payment pages; what an unpaid order or an unknown token gets."""
from __future__ import annotations

import re

import pytest
from tickets_support import TITLE, VENUE, WHEN

from eventsite.domain.models import Event
from eventsite.infra.db import db
from eventsite.services import reserving

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def assert_private(response) -> None:
    assert {name: response.headers.get(name) for name in PRIVATE} == PRIVATE, response.request.url


def ticket_codes(html: str) -> list[str]:
    """The codes written under the tickets (the QR images' alt texts must name the same)."""
    written = re.findall(r"<code[^>]*>(ES-[^<]+)</code>", html)
    assert re.findall(r'alt="QR code for ticket (ES-[^"]+)"', html) == written
    return written


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def details(html: str) -> str:
    """The text of the page's event details."""
    [section] = re.findall(r'<section class="event-details".*?</section>', html, re.S)
    return text(section)


@pytest.fixture
def hold(app, gala):
    """A live hold for one GA seat: reserved, not paid."""
    event_id, (ga, _vip) = gala
    with app.app_context():
        return reserving.reserve(db.session.get(Event, event_id).slug, {ga: 1}, "ann@example.test").token


def test_confirmation_page_links_the_printables_and_shows_exactly_the_orders_codes(confirmed, buyer):
    response = buyer.http.get(f"{buyer.url}/r/{confirmed.token}/payment?session_id=cs_x", timeout=5)
    assert response.status_code == 200 and len(confirmed.codes) == 3
    assert ticket_codes(response.text) == confirmed.codes
    page = text(response.text)
    assert f"{WHEN} – until 22:00 EST" in page and VENUE in page
    assert "Your tickets were also emailed to buyer@example.test" in page and "your way back" in page
    for href, label in [(f"/r/{confirmed.token}/tickets", "Print tickets"),
                        (f"/r/{confirmed.token}/tickets.pdf", "Download PDF"),
                        (f"/r/{confirmed.token}/calendar.ics", "Add to calendar (.ics)")]:
        assert re.search(rf'<a href="{re.escape(href)}"[^>]*>{re.escape(label)}</a>', response.text), label
    assert_private(response)


def test_printable_page_has_one_ticket_per_seat_a_print_button_and_a_print_stylesheet(confirmed, buyer):
    response = buyer.http.get(f"{buyer.url}/r/{confirmed.token}/tickets", timeout=5)
    assert response.status_code == 200
    html = response.text
    assert ticket_codes(html) == confirmed.codes
    assert html.count('class="printable-ticket"') == 3
    tickets = [text(part) for part in html.split('<article class="printable-ticket"')[1:]]
    for number, (ticket, kind) in enumerate(zip(tickets, ["GA", "GA", "VIP"], strict=True), start=1):
        assert f"Ticket {number} of 3" in ticket and TITLE in ticket and WHEN in ticket and VENUE in ticket
        assert f"{kind} Issued to buyer@example.test" in ticket
    assert '<button type="button" data-print>Print</button>' in html and "/static/print.css" in html
    assert "window.print()" in buyer.http.get(f"{buyer.url}/static/site.js", timeout=5).text  # no inline onclick
    css = buyer.http.get(f"{buyer.url}/static/print.css", timeout=5).text
    assert "@media print" in css and "break-after: page" in css and ".screen-only" in css
    assert_private(response)


def test_unpaid_order_has_no_tickets_and_no_files(client, hold):
    page = client.get(f"/r/{hold}/tickets")
    assert page.status_code == 200 and "There are no tickets for this order (yet)" in page.text
    assert f'href="/r/{hold}"' in page.text and "ES-" not in page.text and WHEN in text(page.text)
    assert_private(page)
    for path in ("tickets.pdf", "calendar.ics"):
        html = client.get(f"/r/{hold}/{path}")
        assert html.status_code == 404 and "no tickets yet" in html.text and html.mimetype == "text/html"
        as_json = client.get(f"/r/{hold}/{path}", headers={"Accept": "application/json"})
        assert as_json.status_code == 404 and as_json.json["error"]["code"] == "not_found"
        assert "issued once its payment is confirmed" in as_json.json["error"]["message"]
        assert_private(html)


def test_unknown_token_is_404_like_every_order_page(client, gala):
    for path in ("tickets", "tickets.pdf", "calendar.ics", "payment"):
        response = client.get(f"/r/no-such-token/{path}")
        assert response.status_code == 404 and "There is no such reservation." in response.text, path
        assert_private(response)


def test_event_details_with_the_zone_on_the_hold_and_payment_pages(client, hold, app):
    pages = {"hold": f"/r/{hold}", "preparing": f"/r/{hold}/pay", "payment": f"/r/{hold}/payment"}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        # The hold and payment pages' headings name the event already; the preparing page's does not.
        title = f"{TITLE} " if name == "preparing" else ""
        assert details(response.text) == f"{title}{WHEN} – until 22:00 EST {VENUE}", name
        assert 'datetime="2030-12-16T00:30:00+00:00"' in response.text, name
        assert_private(response)  # the token in the address is the key to the order


def test_event_details_name_the_end_day_when_it_is_another_one_and_skip_what_is_missing(client, hold, app, gala):
    with app.app_context():
        event = db.session.get(Event, gala[0])
        event.ends_at, event.venue = None, ""
        db.session.commit()
    assert details(client.get(f"/r/{hold}").text) == WHEN
    with app.app_context():
        event = db.session.get(Event, gala[0])
        event.ends_at = event.starts_at.replace(day=17)
        db.session.commit()
    assert details(client.get(f"/r/{hold}").text) == f"{WHEN} – until Mon 16 Dec 2030, 19:30 EST"

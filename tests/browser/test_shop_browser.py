"""Buyer pages in Debian's Chromium against the live server (same process, so
moving the injectable clock moves the server's time; nobody sleeps 15 minutes)."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from shop_support import hold_for_other  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def poll_every(app):
    """Set the availability/status poll interval for one test."""
    default = app.config["AVAILABILITY_POLL_SECONDS"]

    def set_to(seconds: int) -> None:
        app.config["AVAILABILITY_POLL_SECONDS"] = seconds

    yield set_to
    app.config["AVAILABILITY_POLL_SECONDS"] = default


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"shop-{name}.png"), full_page=True)


def reserve(page, base: str, name: str, qty: int, email: str) -> None:
    page.goto(f"{base}/events/rush")
    page.get_by_label(f"Quantity of {name}").select_option(str(qty))
    page.get_by_label("Email for your tickets").fill(email)
    page.get_by_role("button", name="Reserve").click()
    expect(page).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]+$"))


def test_last_ticket_held_by_a_then_back_for_b_when_the_hold_lapses(
        browser, live_server, frozen, make_event, poll_every):
    poll_every(1)
    _, (ga,) = make_event({"name": "GA", "capacity": 1, "price": 2500})
    a = browser.new_context(viewport=PHONE)
    b = browser.new_context()
    page_a, page_b = a.new_page(), b.new_page()
    try:
        page_b.goto(f"{live_server}/events/rush")
        status_b = page_b.locator(f"#status-{ga}")
        expect(status_b).to_have_text("1 ticket available")
        shoot(page_b, "1-b-available")

        reserve(page_a, live_server, "GA", 1, "a@example.test")
        hold = page_a.locator("#hold-status")
        # The device clock is months away from the frozen server clock: the
        # countdown still starts from the server's 15:00, and each poll re-syncs it.
        expect(hold).to_contain_text(re.compile(r"Reserved for you \(expires in (15:00|14:59)\)"))
        expect(page_a.get_by_role("cell", name="€25.00").last).to_be_visible()
        shoot(page_a, "2-a-reserved-countdown")

        expect(status_b).to_contain_text(
            re.compile(r"All remaining tickets are reserved — check back in (15:00|14:5\d)"))
        expect(page_b.locator(f"#qty-{ga}")).to_have_count(0)
        shoot(page_b, "3-b-all-reserved")

        frozen.advance(timedelta(minutes=3))
        expect(hold).to_contain_text(re.compile(r"expires in (12:00|11:59)"))  # the server's answer wins

        frozen.advance(timedelta(minutes=12))  # the hold lapses now, no job involved
        expect(status_b).to_have_text("1 ticket available")
        expect(page_b.locator(f"#qty-{ga}")).to_be_visible()
        shoot(page_b, "4-b-available-again")

        expect(page_a.get_by_role("heading", name="Your reservation expired")).to_be_visible()
        expect(page_a.get_by_text("Nothing was charged.")).to_be_visible()
        expect(page_a.get_by_role("button", name="Try again: reserve 1 ticket")).to_be_visible()
        shoot(page_a, "5-a-expired")

        # One click gets the ticket back for A; B's page follows on its next poll.
        page_a.get_by_role("button", name="Try again: reserve 1 ticket").click()
        expect(page_a.locator("#hold-status")).to_contain_text("Reserved for you")
        expect(status_b).to_contain_text("All remaining tickets are reserved")
    finally:
        a.close()
        b.close()


def test_countdown_ticks_in_the_browser_and_expiry_at_zero_swaps_the_page(
        browser, live_server, frozen, make_event, poll_every):
    poll_every(60)  # no re-sync by polling here: what moves is the browser's own countdown
    _, (ga,) = make_event({"name": "GA", "capacity": 2}, hold_minutes=1)
    context = browser.new_context()
    page = context.new_page()
    try:
        reserve(page, live_server, "GA", 2, "c@example.test")
        timer = page.locator("#hold-status [data-countdown]")
        expect(timer).to_have_text("01:00")
        expect(timer).to_have_text("00:58", timeout=4000)  # ticking on its own

        frozen.advance(timedelta(seconds=58))
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # tab shown again: re-sync
        expect(timer).to_have_text(re.compile(r"00:0[12]"))
        frozen.advance(timedelta(seconds=2))  # the server's hold has lapsed; no poll is due for a minute
        expect(page.get_by_role("heading", name="Your reservation expired")).to_be_visible(timeout=5000)
        expect(page.get_by_text("GA: 2 tickets available")).to_be_visible()
        shoot(page, "6-expired-at-zero")
    finally:
        context.close()


def test_polling_answers_304_keeps_the_picks_and_pauses_while_hidden(
        browser, live_server, frozen, make_event, poll_every):
    poll_every(1)
    _, (ga,) = make_event({"name": "GA", "capacity": 5})
    context = browser.new_context()
    page = context.new_page()
    statuses: list[int] = []
    page.on("response", lambda r: "/availability" in r.url and statuses.append(r.status))

    def next_poll():
        with page.expect_response(lambda r: "/availability" in r.url, timeout=5000) as response:
            pass
        return response.value

    try:
        page.goto(f"{live_server}/events/rush")
        page.locator(f"#qty-{ga}").select_option("3")
        assert [next_poll().status for _ in range(2)] == [304, 304]
        expect(page.locator(f"#qty-{ga}")).to_have_value("3")  # an unchanged answer leaves the page alone

        page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true})")
        page.wait_for_timeout(500)  # a poll already on its way may still land
        seen = len(statuses)
        page.wait_for_timeout(2500)
        assert len(statuses) == seen, "polled while hidden"

        page.evaluate("Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
                      "document.dispatchEvent(new Event('visibilitychange'))")
        assert next_poll().status == 304  # polling resumes once the tab is shown
        shoot(page, "7-event-page")
    finally:
        context.close()


def test_refusals_show_in_place_and_the_page_stays_usable(
        browser, live_server, frozen, make_event, poll_every, hold_for_other):
    poll_every(60)  # figures refresh here only because a refusal asks for it
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/events/rush")
        page.get_by_label("Quantity of GA").select_option("1")
        page.get_by_label("Email for your tickets").fill("b@example.test")

        # A stale form: the page says so where the buyer is looking.
        page.locator("#reserve-form input[name=csrf_token]").evaluate("el => el.value = 'stale'")
        page.get_by_role("button", name="Reserve").click()
        alert = page.locator("#reserve-feedback [role=alert]")
        expect(alert).to_contain_text("This form has expired")
        shoot(page, "8-stale-form")
        page.get_by_role("link", name="Reload the page").click()

        # Someone else takes the last ticket while B is choosing.
        page.get_by_label("Quantity of GA").select_option("1")
        page.get_by_label("Email for your tickets").fill("b@example.test")
        hold_for_other(event_id, {ga: 1})
        page.get_by_role("button", name="Reserve").click()
        expect(alert).to_contain_text("Not reserved: other buyers got to these tickets first.")
        expect(page.locator(f"#status-{ga}")).to_contain_text(  # the verdict is the line's
            re.compile(r"All remaining tickets are reserved — check back in (15:00|14:5\d)"))
        expect(page).to_have_url(f"{live_server}/events/rush")
        shoot(page, "9-all-reserved-while-choosing")
    finally:
        context.close()

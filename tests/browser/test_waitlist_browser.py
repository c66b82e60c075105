"""The waiting list in Debian's Chromium against the live server (same process: moving the
injectable clock moves the server's time). Two buyers: A holds the last ticket, B waits
for it, and gets it, offered live on the waiting page, when A's hold lapses."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from browser_support import pay_on_hosted_page
from playwright.sync_api import expect

from eventsite.services import waitlist

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 390, "height": 844}
B = "b@example.test"


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"waitlist-{name}.png"), full_page=True)


def test_b_joins_the_line_and_is_offered_the_ticket_a_let_lapse_then_pays(
        app, browser, live_server, frozen, make_event, devstripe, run_due, run_jobs, inbox, wait_for):
    poll = app.config["AVAILABILITY_POLL_SECONDS"]  # the shipped interval (5 s)
    _, (ga,) = make_event({"name": "GA", "capacity": 1, "price": 2500, "per_order_limit": 4}, slug="gig")
    page_a, page_b = browser.new_context().new_page(), browser.new_context(viewport=PHONE).new_page()
    for page in (page_a, page_b):
        page.set_default_timeout(10_000)

    page_a.goto(f"{live_server}/events/gig")
    page_a.get_by_label("Quantity of GA").select_option("1")
    page_a.get_by_label("Email for your tickets").fill("a@example.test")
    page_a.get_by_role("button", name="Reserve").click()
    expect(page_a).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]+$"))

    page_b.goto(f"{live_server}/events/gig")
    expect(page_b.locator(f"#status-{ga}")).to_have_text(
        re.compile(r"All remaining tickets are reserved — check back in (15:00|14:5\d)"))
    expect(page_b.locator(f"#qty-{ga}")).to_have_count(0)
    page_b.get_by_label("Your email for the GA waiting list").fill(B)
    page_b.get_by_label("Tickets wanted (GA)").select_option("1")
    with app.app_context():  # someone joins while B types: the figures, and so the lines, change under B
        other = waitlist.join("gig", ga, 1, "x@example.test").token
    expect(page_b.locator(f"#status-{ga}")).to_contain_text("1 person on the waiting list", timeout=(poll + 5) * 1000)
    expect(page_b.get_by_label("Your email for the GA waiting list")).to_have_value(B)  # the swap kept it
    with app.app_context():
        waitlist.leave(other)
    shoot(page_b, "1-b-joins")
    page_b.get_by_role("button", name="Join the waiting list").click()
    expect(page_b).to_have_url(re.compile(r"/w/[A-Za-z0-9_-]+$"))
    live = page_b.locator("#waiting-live")
    expect(page_b.get_by_role("heading", name="You are 1st in line")).to_be_visible()
    expect(live).to_contain_text(
        re.compile(r"1 ticket is held by other buyers; the earliest hold ends in (15:00|14:5\d)"))
    shoot(page_b, "2-b-waiting")
    page_b.evaluate("window.sameDocument = true")  # gone if the page reloads

    frozen.advance(timedelta(minutes=15))  # A's hold lapses at this instant; no job has run yet
    # The ticket is the line's from that instant (a real browser asks at once: its countdown hits zero).
    expect(live).to_contain_text("1 ticket came back for the waiting list", timeout=(poll + 5) * 1000)
    shoot(page_b, "3-b-ticket-came-back")
    lapsed = time.monotonic()
    run_due()  # its expiry job, which prompts the offer, as the worker would run them
    run_jobs("default")
    page_b.locator('#waiting-live[data-state="offered"]').wait_for()  # checked on every frame, unlike expect()
    seconds = time.monotonic() - lapsed
    expect(live).to_contain_text(re.compile(r"Your tickets are reserved for you — pay within (10:00|09:5\d)"))
    print(f"\njobs run after the hold lapsed -> offer on B's waiting page: {seconds:.2f} s")
    assert page_b.evaluate("window.sameDocument") is True  # it came by polling, not by reloading
    expect(live.locator("[data-countdown]")).to_be_visible()
    shoot(page_b, "4-b-offered")

    page_b.get_by_role("button", name="Pay for your tickets").click()
    expect(page_b).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]+$"))
    pay_on_hosted_page(page_b, devstripe, run_jobs, seats=1)
    shoot(page_b, "5-b-paid")

    def tickets_mail():
        run_jobs()
        return [m for m in inbox.to(B) if m["Subject"] == "Your tickets for Event gig"]

    assert wait_for(tickets_mail)

"""The waiting room in Debian's Chromium against the live server (same process: moving the injectable
clock moves the server's time), on a phone, under the app's real Content-Security-Policy. A buyer
joins before the on-sale, sees the seed's hash and their place; at the on-sale instant the room's
own poll takes them to the event page with their turn and the form; they reserve and pay on the dev
hosted page, and see their tickets."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from browser_support import pay_on_hosted_page
from playwright.sync_api import expect
from sqlalchemy import select
from test_security_headers_browser import watched  # noqa: F401 (fixture: a page that reports CSP violations)

from eventsite.domain.models import WaitingRoom
from eventsite.infra.db import db

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 360, "height": 740}


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"room-{name}.png"), full_page=True)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_buyer_joins_before_the_on_sale_is_let_in_at_the_instant_reserves_and_pays(
        app, live_server, watched, frozen, room_event, devstripe, run_jobs):  # noqa: F811
    poll = app.config["AVAILABILITY_POLL_SECONDS"]  # the shipped interval
    event_id, _ = room_event(capacity=3)
    seed_hash = db.session.scalar(select(WaitingRoom.seed_hash).where(WaitingRoom.event_id == event_id))
    page = watched(viewport=PHONE)
    page.set_default_timeout(10_000)

    page.goto(f"{live_server}/events/onsale")
    expect(page.get_by_role("heading", name=re.compile("Tickets go on sale at"))).to_be_visible()
    expect(page.locator("#reserve-form")).to_have_count(0)  # the room, not the form
    assert fits_the_screen(page)
    page.get_by_label(re.compile("^Email")).fill("buyer@example.test")
    page.get_by_role("button", name="Join the waiting room").click()

    expect(page).to_have_url(f"{live_server}/events/onsale/room")
    live = page.locator("#room-live")
    expect(page.get_by_role("heading", name="You are in the waiting room")).to_be_visible()
    expect(live).to_contain_text("Your place number is 1.")
    expect(live.locator(".room-seed code")).to_have_text(seed_hash)
    expect(live.locator("[data-countdown]")).to_have_text(re.compile(r"^(30:00|29:5\d)$"))
    assert fits_the_screen(page)  # the 64 hex digits wrap
    shoot(page, "1-waiting")

    frozen.advance(timedelta(minutes=30))  # the on-sale instant: nobody clicks anything
    started = time.monotonic()
    expect(page).to_have_url(f"{live_server}/events/onsale", timeout=(poll + 5) * 1000)
    print(f"\non-sale instant -> the buyer on the event page with their turn: {time.monotonic() - started:.2f} s "
          f"(poll every {poll} s)")
    expect(page.locator("[data-admitted]")).to_contain_text(
        re.compile(r"It is your turn: reserve your tickets within\s+(05:00|04:5\d)"))
    assert fits_the_screen(page)
    shoot(page, "2-your-turn")

    page.get_by_label("Quantity of GA").select_option("2")
    page.get_by_label("Email for your tickets").fill("buyer@example.test")
    page.get_by_role("button", name="Reserve").click()
    expect(page).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]+$"))
    pay_on_hosted_page(page, devstripe, run_jobs, seats=2)
    shoot(page, "3-paid")
    assert watched.violations == []

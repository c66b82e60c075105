"""Renewing a hold in Debian's Chromium, keyboard only (WCAG 2.2.1, Timing Adjustable): the alert
dialog at 60 seconds with the focus on "Keep my tickets", Escape giving the focus back, a renewal
that moves the countdown, and a renewal refused while another buyer waits, all under the app's
Content-Security-Policy. The device clock stands still (Playwright's fixed time): only the server's
frozen clock moves the countdown, through the status polls."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from test_security_headers_browser import watched  # noqa: F401 (fixture: CSP violations of the page)
from testenv import T0

from eventsite.readmodels import lookups
from eventsite.services import waitlist

pytestmark = pytest.mark.browser

EXPIRES = T0 + timedelta(minutes=15)


def tab_to(page, name: str) -> None:
    """Move the focus with the Tab key until it is on the button called ``name``."""
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    pytest.fail(f"the keyboard never reached {name!r}")


def stored(app, token: str):
    with app.app_context():
        order = lookups.order_by_token(token)
        return order.expires_at, order.renewals


def test_keyboard_only_renewal_at_the_sixty_second_warning(
        app, live_server, frozen, make_event, rq_redis, watched, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "AVAILABILITY_POLL_SECONDS", 1)
    _, (ga,) = make_event({"name": "GA", "capacity": 1})
    page = watched()
    page.set_default_timeout(10_000)
    page.clock.set_fixed_time(datetime(2031, 1, 1))  # far from the server's clock, and standing still
    page.goto(f"{live_server}/events/rush")
    page.get_by_label("Quantity of GA").select_option("1")
    page.get_by_label("Email for your tickets").fill("ann@example.test")
    page.get_by_role("button", name="Reserve").click()
    expect(page).to_have_url(re.compile(r"/r/[\w-]+$"))
    token = page.url.rsplit("/", 1)[1]
    timer = page.locator("#hold-status [data-countdown]")
    dialog = page.get_by_role("alertdialog", name="Your tickets are about to be released")
    keep = dialog.get_by_role("button", name="Keep my tickets")
    announcer = page.locator("#hold-announcer")
    expect(timer).to_have_text("15:00")
    expect(announcer).to_have_text("")  # the page has just said the time: nothing to announce

    # 61 seconds left: "Need more time?" is offered, the dialog waits (two polls prove it).
    frozen.advance(EXPIRES - timedelta(seconds=61) - frozen.now())
    expect(timer).to_have_text("01:01")
    expect(announcer).to_have_text("2 minutes left to pay for your tickets.")  # a new minute, said once
    expect(page.get_by_role("heading", name="Need more time?")).to_be_visible()
    expect(page.get_by_text("10 renewals left.").first).to_be_visible()
    for _ in range(2):
        with page.expect_response(re.compile(r"/status$")):
            pass
    expect(dialog).to_be_hidden()
    offer = page.get_by_role("button", name="Keep my tickets for 5 more minutes")
    tab_to(page, "Keep my tickets for 5 more minutes")

    # 59 seconds left: the alert dialog, the focus on "Keep my tickets", one polite announcement.
    frozen.advance(timedelta(seconds=2))
    expect(dialog).to_be_visible()
    expect(keep).to_be_focused()
    expect(dialog).to_have_accessible_description(re.compile(r"^Less than a minute is left to pay\."))
    expect(announcer).to_have_text("Less than a minute left to pay for your tickets.")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Let them go")).to_be_focused()
    with page.expect_response(re.compile(r"/status$")):
        pass  # a poll replaces the offer the focus came from while the dialog is open
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(offer).to_be_focused()  # back where it was: on the offer's successor

    # The offer on the page itself, taken with Enter.
    page.keyboard.press("Enter")
    expect(timer).to_have_text("05:59")
    expect(page.locator("#hold-status")).to_be_focused()
    expect(page.get_by_role("status")).to_have_text(
        "Done: your tickets are reserved for 5 more minutes. 9 renewals left.")
    expect(page.get_by_role("heading", name="Need more time?")).to_have_count(0)
    assert stored(app, token) == (EXPIRES + timedelta(minutes=5), 1)

    # Someone joins the line; at 59 seconds the dialog comes back (a new expiry), Space is refused.
    with app.app_context():
        waitlist.join("rush", ga, 1, "wait@example.test")
    frozen.advance(timedelta(minutes=5))
    expect(dialog).to_be_visible()
    expect(keep).to_be_focused()
    page.keyboard.press("Space")
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Other buyers are waiting for these tickets, so this hold cannot be renewed.")
    expect(refusal).to_be_focused()
    expect(dialog).to_be_hidden()
    expect(timer).to_have_text("00:59")
    for _ in range(2):  # the same expiry: the dialog does not come back over the message
        with page.expect_response(re.compile(r"/status$")):
            pass
    expect(dialog).to_be_hidden()
    expect(refusal).to_be_visible()
    assert stored(app, token) == (EXPIRES + timedelta(minutes=5), 1)
    assert watched.violations == []

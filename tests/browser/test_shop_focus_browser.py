"""Keyboard focus after the shop's htmx swaps: it lands on the new content, never on the page body."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from shop_support import hold_for_other  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

FOCUSED = "() => { const e = document.activeElement; return [e.tagName, e.getAttribute('role'), e.innerText.trim()]; }"


def test_release_by_keyboard_asks_then_focuses_the_released_heading(page, live_server, frozen, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 2})
    page.goto(f"{live_server}/events/rush")
    page.get_by_label("Quantity of GA").select_option("1")
    page.get_by_label("Email for your tickets").fill("kim@example.test")
    page.get_by_role("button", name="Reserve").press("Enter")
    expect(page).to_have_url(re.compile(r"/r/[A-Za-z0-9_-]+$"))
    page.wait_for_load_state()  # htmx (deferred) has wired the page
    page.get_by_role("button", name="Release these tickets").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Release these tickets?")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Yes, release them")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="You released this reservation")).to_be_focused()
    assert page.evaluate(FOCUSED)[0] == "H1"


def test_a_refused_reserve_focuses_its_alert(page, live_server, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    page.goto(f"{live_server}/events/rush")
    page.get_by_label("Quantity of GA").select_option("1")
    page.get_by_label("Email for your tickets").fill("kim@example.test")
    hold_for_other(event_id, {ga: 1})  # someone else takes the last ticket meanwhile
    page.get_by_role("button", name="Reserve").press("Enter")
    alert = page.locator("#reserve-feedback [role=alert]")
    expect(alert).to_contain_text("Not reserved: other buyers got to these tickets first.")
    expect(alert).to_be_focused()
    expect(page.locator(f"#status-{ga}")).to_contain_text("All remaining tickets are reserved")

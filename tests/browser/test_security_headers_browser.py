"""In Chromium, under the app's real Content-Security-Policy: a buyer reserves with htmx, watches
the countdown, pays on the dev hosted page and prints the tickets; the organizer watches the live
figures and checks a ticket in at the door. The browser reports no policy violation on any of
our pages: no inline script or style, no eval (htmx's filters and indicator styles are off)."""
from __future__ import annotations

import re

import pytest
from dashboard_helpers import log_in_in_browser
from playwright.sync_api import expect

from eventsite.domain.models import Order
from eventsite.infra.db import db
from eventsite.readmodels import tickets

pytestmark = pytest.mark.browser

# Every document of the context reports each violation to the test, as it happens, and print
# dialogs are counted instead of opened.
WATCH = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.reportViolation([location.pathname, e.effectiveDirective, e.blockedURI,
                          e.sourceFile + ":" + e.lineNumber, e.sample].join(" | "));
});
window.print = function () { window.printed = (window.printed || 0) + 1; };
"""


@pytest.fixture
def watched(browser):
    """A new browser context that collects CSP violations (events and console messages)."""
    violations: list[str] = []
    contexts = []

    def open_page(**options):
        context = browser.new_context(**options)
        context.expose_function("reportViolation", lambda text: violations.append(text))
        context.add_init_script(WATCH)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: "Content Security Policy" in message.text
                and violations.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
        return page

    open_page.violations = violations
    yield open_page
    for context in contexts:
        context.close()


def test_buyer_and_organizer_pages_work_under_the_policy(app, live_server, world, devstripe, run_jobs,
                                                         watched, monkeypatch):
    monkeypatch.setitem(app.config, "AVAILABILITY_POLL_SECONDS", 1)
    buyer = watched(viewport={"width": 390, "height": 844})
    buyer.set_default_timeout(10_000)

    # The event page: its availability polls (htmx), and reserving goes through htmx too.
    buyer.goto(f"{live_server}/events/owned")
    with buyer.expect_response(re.compile(r"/events/owned/availability")):
        pass
    buyer.get_by_label("Quantity of GA").select_option("2")
    buyer.get_by_label("Email for your tickets").fill("csp@example.test")
    with buyer.expect_request(lambda r: r.url.endswith("/reserve") and r.headers.get("hx-request") == "true"):
        buyer.get_by_role("button", name="Reserve").click()
    expect(buyer).to_have_url(re.compile(r"/r/[\w-]+$"))

    # The hold page: the countdown ticks (static script) and the status is polled.
    timer = buyer.locator("#hold-status [data-countdown]")
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=3000)
    with buyer.expect_response(re.compile(r"/r/[\w-]+/status")):
        pass

    # Pay now: preparing (polled), then the dev hosted page, and back to the tickets.
    buyer.get_by_role("button", name="Pay now").click()
    expect(buyer.get_by_text("Preparing payment…").first).to_be_visible()
    run_jobs("default")
    buyer.wait_for_url(re.compile(re.escape(devstripe.url) + r"/pay/cs_"))
    buyer.get_by_role("button", name="Pay", exact=True).click()
    expect(buyer.get_by_role("heading", name="Your tickets")).to_be_visible()
    expect(buyer.get_by_role("img", name=re.compile("QR code for ticket"))).to_have_count(2)  # data: URIs

    # The printable page's Print button (no inline onclick any more).
    buyer.goto(buyer.url.replace("/payment", "/tickets").split("?")[0])
    buyer.get_by_role("button", name="Print").click()
    assert buyer.evaluate("window.printed") == 1

    # The organizer: the live figures poll, and the door takes a typed code.
    organizer = watched(viewport={"width": 390, "height": 844})
    organizer.set_default_timeout(10_000)
    log_in_in_browser(organizer, live_server, "owner@example.test")
    organizer.goto(f"{live_server}/dashboard/events/{world.event_id}")
    with organizer.expect_response(re.compile(rf"/dashboard/events/{world.event_id}/live")):
        pass
    expect(organizer.locator('#live tr[data-row="GA"] td[data-figure="sold"]')).to_have_text("2")

    with app.app_context():
        (code, *_) = [t.code for t in tickets.tickets(db.session.get(Order, world.paid_order_id))]
    organizer.goto(f"{live_server}/dashboard/events/{world.event_id}/checkin")
    expect(organizer.locator("#camera-state")).not_to_have_text(re.compile("Starting"))  # the scanner script ran
    organizer.fill("#code", code)
    organizer.click("button:has-text('Check in')")
    expect(organizer.locator("#scan-result .scan-result")).to_have_attribute("data-result", "valid")

    assert buyer.context.pages and organizer.context.pages
    assert watched.violations == []

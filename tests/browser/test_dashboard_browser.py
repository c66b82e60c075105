"""In Chromium: an organizer sets up an event from the dashboard, a buyer reserves in the shop in a second
browser, and the organizer's next poll shows the hold; after the buyer pays on the (dev) hosted checkout
page, the next poll shows the sale; a refund the provider refuses is shown to the organizer."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from dashboard_helpers import PASSWORD, add_organizer
from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def figure(page, row: str, name: str):
    return page.locator(f'#live tr[data-row="{row}"] td[data-figure="{name}"]')


@pytest.mark.browser
def test_organizer_sets_up_an_event_and_sees_the_hold_then_the_sale(
        app, live_server, browser, page, monkeypatch, devstripe, run_jobs, settings):
    monkeypatch.setitem(app.config, "AVAILABILITY_POLL_SECONDS", 1)
    with app.app_context():
        add_organizer("org@example.test")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone

    page.goto(f"{live_server}/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/login\?next="))
    page.fill("#email", "org@example.test")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Log in')")
    expect(page.locator("h1")).to_have_text("My events")

    page.click("text=New event")
    page.fill("#title", "Browser Fest")
    page.fill("#slug", "browser-fest")
    page.fill("#timezone", "Europe/Berlin")
    page.fill("#starts_at", "2027-03-01T20:00")
    page.fill("#hold_minutes", "15")
    page.click("button:has-text('Create event')")
    expect(page.locator("h1")).to_have_text("Browser Fest")
    event_page = page.url

    for name, price, capacity in (("Standing", "20.00", "50"), ("Balcony", "35.50", "10")):
        page.click("text=Add ticket type")
        page.fill("#name", name)
        page.fill("#price", price)
        page.fill("#capacity", capacity)
        page.fill("#per_order_limit", "4")
        page.click("button:has-text('Add ticket type')")
        expect(page.locator("p[role=status]")).to_contain_text(f"Ticket type “{name}” added.")
    page.click("button:has-text('Publish')")
    expect(page.locator("p[role=status]")).to_contain_text("visible in the shop")
    expect(figure(page, "Standing", "held")).to_have_text("0")
    expect(figure(page, "Total", "capacity")).to_have_text("60")

    # The buyer, in a browser of their own, reserves on the shop page.
    buyer = browser.new_context().new_page()
    reserve_in_shop(buyer, live_server, standing="2", balcony="1")

    expect(figure(page, "Standing", "held")).to_have_text("2", timeout=5000)  # no reload: the poll brings it
    expect(figure(page, "Balcony", "available")).to_have_text("9")
    expect(figure(page, "Total", "live-holds")).to_have_text("1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-hold.png"), full_page=True)

    # The organizer releases the hold, confirming the dialog.
    page.click("text=Orders")
    page.click("#main table a")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Release hold')")
    expect(page.locator("h1 .status")).to_have_text("cancelled")
    page.goto(event_page)
    expect(figure(page, "Standing", "held")).to_have_text("0")
    expect(figure(page, "Standing", "released")).to_contain_text("2 (1 order)")

    # The buyer reserves again and pays on the hosted checkout page; the next poll shows the sale.
    reserve_in_shop(buyer, live_server, standing="1", balcony="0")
    buyer.get_by_role("button", name="Pay now").click()
    expect(buyer.get_by_text("Preparing payment…").first).to_be_visible()
    run_jobs("default")  # the worker creates the Checkout Session; the buyer's poll follows it there
    buyer.wait_for_url(re.compile(re.escape(devstripe.url) + r"/pay/cs_"), timeout=10_000)
    buyer.get_by_role("button", name="Pay", exact=True).click()
    expect(buyer.get_by_role("heading", name="Your tickets")).to_be_visible(timeout=10_000)

    expect(figure(page, "Standing", "sold")).to_have_text("1", timeout=5000)
    expect(figure(page, "Standing", "held")).to_have_text("0")
    expect(figure(page, "Standing", "available")).to_have_text("49")
    page.screenshot(path=str(ARTIFACTS / "dashboard-sale.png"), full_page=True)
    buyer.context.close()

    # A refund the payment provider refuses is shown in place, and the order stays paid.
    settings(DEVSTRIPE_URL="http://127.0.0.1:1")
    page.click("text=Orders")
    page.locator("#main table a").first.click()  # newest first: the paid order
    expect(page.locator("h1 .status")).to_have_text("confirmed")
    order_page = page.url
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Refund order')")
    expect(page.get_by_text("The payment provider did not refund this order")).to_be_visible()
    page.goto(order_page)
    expect(page.locator("h1 .status")).to_have_text("confirmed")


def reserve_in_shop(buyer, live_server: str, *, standing: str, balcony: str) -> None:
    buyer.goto(f"{live_server}/events/browser-fest")
    buyer.get_by_label("Quantity of Standing").select_option(standing)
    buyer.get_by_label("Quantity of Balcony").select_option(balcony)
    buyer.get_by_label("Email for your tickets").fill("buyer@example.test")
    buyer.get_by_role("button", name="Reserve").click()
    expect(buyer).to_have_url(re.compile(r"/r/[\w-]+$"))

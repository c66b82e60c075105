"""Browser journeys' shared steps."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def pay_on_hosted_page(page: Page, devstripe, run_jobs, seats: int) -> None:
    """From the reservation page: Pay now, the worker's Checkout Session, the dev hosted page, the tickets."""
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("Preparing payment…").first).to_be_visible()
    run_jobs("default")  # the Checkout Session; the page's poll follows it to the hosted page
    page.wait_for_url(re.compile(re.escape(devstripe.url) + r"/pay/cs_"))
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("heading", name="Your tickets")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code for ticket"))).to_have_count(seats)

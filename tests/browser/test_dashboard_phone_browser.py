"""In Chromium, at phone and desktop width: the live figures fit the screen (no sideways scrolling), each
ticket type's sold, held, available and revenue in view and labelled, and the chart's three series drawn."""
from __future__ import annotations

from datetime import timedelta

import pytest
from dashboard_helpers import add_organizer, log_in_in_browser, pay, reserve
from playwright.sync_api import expect

KEY = ("sold", "held", "available", "revenue")
ROWS = ("Standing", "Early bird seated with parking", "VIP", "Total")


@pytest.mark.browser
@pytest.mark.parametrize(("width", "cards"), [(390, True), (1280, False)])
def test_the_live_figures_fit_the_screen_with_the_key_numbers_first(app, live_server, page, frozen, make_event,
                                                                      width, cards):
    with app.app_context():
        add_organizer("org@example.test")
    event_id, (standing, seated, vip) = make_event(
        {"name": "Standing", "capacity": 500, "price": 2000}, {"name": "Early bird seated with parking",
                                                              "capacity": 120, "price": 4550},
        {"name": "VIP", "capacity": 20, "price": 125000}, slug="phone")
    with app.app_context():
        pay(reserve(event_id, {standing: 4, vip: 3}, "paid@example.test").id)
        reserve(event_id, {seated: 2}, "lapsing@example.test")
        frozen.advance(timedelta(minutes=20))  # that hold lapsed: the chart has a lapsed line
        reserve(event_id, {standing: 1, seated: 1}, "holding@example.test")

    page.set_viewport_size({"width": width, "height": 844})
    log_in_in_browser(page, live_server, "org@example.test")
    page.goto(f"{live_server}/dashboard/events/{event_id}")
    figure = lambda row, name: page.locator(f'#live tr[data-row="{row}"] td[data-figure="{name}"]')  # noqa: E731
    expect(figure("VIP", "revenue")).to_have_text("€3,750.00")
    expect(figure("Total", "held")).to_have_text("2")

    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    # Nothing to scroll sideways inside the figures either: every cell is on the screen.
    assert page.evaluate("(w => w.scrollWidth <= w.clientWidth)(document.querySelector('#live .table-wrap'))")
    for row in ROWS:
        for name in KEY:
            box = figure(row, name).bounding_box()
            assert figure(row, name).is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= width, (row, name)
        last = figure(row, "checked-in").bounding_box()
        assert last["x"] + last["width"] <= width, row

    label = "el => getComputedStyle(el, '::before').content"
    if cards:  # one card per type: its name, then the four key numbers at the top, each labelled
        assert page.locator("#live table.figures thead").is_hidden()
        assert figure("VIP", "revenue").evaluate(label) == '"Revenue"'
        assert figure("VIP", "sold").bounding_box()["y"] < figure("VIP", "capacity").bounding_box()["y"]
        name = page.locator('#live tr[data-row="VIP"] th').bounding_box()
        assert name["y"] < figure("VIP", "sold").bounding_box()["y"]
    else:  # one row per type, under headings that name the key numbers first
        headings = page.locator("#live table.figures thead th").all_inner_texts()
        assert [" ".join(h.split()) for h in headings[:5]] == [
            "Ticket type", "Sold", "Held now", "Available", "Revenue"]
        assert figure("VIP", "revenue").evaluate(label) in ("none", "normal")
        assert figure("VIP", "sold").bounding_box()["y"] == figure("VIP", "checked-in").bounding_box()["y"]

    chart = page.locator("#live figure.chart > svg").bounding_box()
    assert chart["x"] >= 0 and chart["x"] + chart["width"] <= width
    assert page.locator("#live .legend .key").first.bounding_box()["width"] < 60  # a short sample of the line
    expect(page.locator("#live [data-series]")).to_have_count(3)
    expect(page.locator("#live [data-legend]")).to_have_text(["sold: 7", "held: 2", "lapsed: 2"])
    dashes = [page.locator(f'#live [data-series="{name}"]').evaluate("el => getComputedStyle(el).strokeDasharray")
              for name in ("sold", "held", "lapsed")]
    assert len(set(dashes)) == 3  # told apart without colour

"""In Chromium on a phone-sized page: the door's camera (a fake one, playing a video of a real
ticket's QR code) scans the ticket and the page shows VALID with its ticket type; typing the
same code afterwards shows ALREADY CHECKED IN, with when and by which device."""
from __future__ import annotations

from pathlib import Path

import pytest
import segno
from dashboard_helpers import log_in_in_browser
from playwright.sync_api import expect

from eventsite.domain.models import CheckIn, Order
from eventsite.infra.db import db
from eventsite.readmodels import tickets

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTH, HEIGHT, FRAMES = 640, 480, 10
BLACK, WHITE, NEUTRAL_CHROMA = 16, 235, 128


def qr_video(code: str, path: Path) -> Path:
    """A Y4M (YUV 4:2:0) video of ``code``'s QR code, held up large in the middle of the
    picture, for Chromium's --use-file-for-fake-video-capture."""
    matrix = segno.make(code, error="m").matrix
    border = 4  # the quiet zone QR readers need
    modules = len(matrix) + 2 * border
    scale = (HEIGHT * 2 // 3 - 20) // modules  # inside the scanner's scan region: the middle 2/3 of the frame
    left, top = (WIDTH - modules * scale) // 2, (HEIGHT - modules * scale) // 2
    luma = bytearray([WHITE]) * (WIDTH * HEIGHT)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for py in range(top + (y + border) * scale, top + (y + border + 1) * scale):
                    start = py * WIDTH + left + (x + border) * scale
                    luma[start:start + scale] = bytes([BLACK]) * scale
    chroma = bytes([NEUTRAL_CHROMA]) * ((WIDTH // 2) * (HEIGHT // 2))
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    path.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * FRAMES)
    return path


@pytest.fixture
def camera_browser(browser_type, browser_type_launch_args, tmp_path):
    """Launch a Chromium whose camera plays the given ticket code; yields a function of the code."""
    launched = []

    def launch(code: str):
        video = qr_video(code, tmp_path / "ticket.y4m")
        browser = browser_type.launch(**{**browser_type_launch_args, "args": [
            *browser_type_launch_args["args"], "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]})
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


@pytest.mark.browser
def test_the_phone_camera_lets_a_ticket_in_once(frozen, app, world, live_server, camera_browser):
    with app.app_context():
        (ticket,) = tickets.tickets(db.session.get(Order, world.paid_order_id))
    browser = camera_browser(ticket.code)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.grant_permissions(["camera"], origin=live_server)
    # The device's name, as an earlier shift typed it on this phone.
    context.add_init_script("localStorage.setItem('eventsite.checkin.device', 'Phone at door 1')")
    page = context.new_page()
    scans = []
    page.on("request", lambda r: scans.append(r) if r.method == "POST" and r.url.endswith("/checkin") else None)

    log_in_in_browser(page, live_server, "owner@example.test")
    page.goto(f"{live_server}/dashboard/events/{world.event_id}")
    page.click("text=Check-in at the door")
    expect(page.locator("h1")).to_have_text("Check-in at the door")
    expect(page.locator("#device")).to_have_value("Phone at door 1")

    panel = page.locator("#scan-result .scan-result")
    expect(panel).to_have_attribute("data-result", "valid", timeout=20_000)
    expect(panel.locator(".scan-headline")).to_have_text("VALID")
    expect(panel.locator(".scan-type")).to_have_text("VIP")
    expect(page.locator('#door-status tr[data-row="VIP"] td[data-figure="checked-in"]')).to_have_text("1")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "checkin-valid.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    # The camera keeps seeing the ticket; stop it, then type the same code: it is in already.
    page.click("#camera-toggle")
    expect(page.locator("#camera-state")).to_have_text("Camera off.")
    camera_posts = len(scans)
    page.fill("#code", ticket.code)
    page.click("button:has-text('Check in')")
    expect(panel).to_have_attribute("data-result", "already")
    expect(panel.locator(".scan-headline")).to_have_text("ALREADY CHECKED IN")
    expect(panel).to_contain_text("checked in at Mon 01 Jun, 12:00:00 UTC")
    expect(panel).to_contain_text("by Phone at door 1")
    expect(page.locator("#code")).to_have_value("")
    page.screenshot(path=str(ARTIFACTS / "checkin-already.png"), full_page=True)

    assert camera_posts == 1  # the code stayed in view: posted once, not on every frame
    with app.app_context():
        assert [(c.seat, c.device) for c in db.session.query(CheckIn)] == [(1, "Phone at door 1")]
    context.close()

"""axe-core on every buyer page state and every dashboard page, in English and German, at phone
(390×844) and desktop (1280×900) width, in Debian's Chromium against the live server (same process:
moving the injectable clock moves the server's time). Each state is screenshotted at both widths to
tests/artifacts/screenshots/<lang>/<width>/<NN-name>.png, and every serious or critical WCAG 2.x A/AA
violation of the walk is collected, so one run lists them all; the test asserts there are none.

The data is built through the services (no clicking where clicking is not the point); a browser's
own place in a waiting room is handed to it as the signed session cookie the room would have set."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from axe_support import axe_violations, describe
from dashboard_helpers import PASSWORD, add_organizer, pay
from room_support import ON_SALE, set_room
from testenv import T0

from eventsite.domain.models import Event, Order
from eventsite.infra.db import db
from eventsite.readmodels import tickets
from eventsite.services import paying, reserving, waiting_room, waitlist

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
VIEWPORTS = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 900}}
ORGANIZER = "org@example.test"


class Walk:
    """One browser page in one language: visit a state, screenshot it and run axe at both widths."""

    def __init__(self, app, context, base: str, lang: str):
        self.app, self.context, self.base, self.lang = app, context, base, lang
        self.page = context.new_page()
        self.page.set_default_timeout(10_000)
        self.number = 0
        self.problems: list[str] = []
        self.pages: list[str] = []
        for width in VIEWPORTS:
            (SCREENSHOTS / lang / str(width)).mkdir(parents=True, exist_ok=True)

    def as_browser_with(self, session: dict | None) -> None:
        """Replace the browser's session cookie with one holding ``session`` (None: no cookie at all)."""
        self.context.clear_cookies()
        if session is not None:
            value = self.app.session_interface.get_signing_serializer(self.app).dumps(session)
            self.context.add_cookies([{"name": self.app.config["SESSION_COOKIE_NAME"], "value": value,
                                       "url": self.base}])

    def visit(self, name: str, path: str, *, status: int = 200) -> None:
        response = self.page.goto(self.base + path)
        assert response.status == status, (name, path, response.status)
        self.check(name)

    def check(self, name: str) -> None:
        """The page as it is now, at each width."""
        self.number += 1
        shot = f"{self.number:02d}-{name}"
        self.pages.append(shot)
        for width, size in VIEWPORTS.items():
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(SCREENSHOTS / self.lang / str(width) / f"{shot}.png"), full_page=True)
            self.problems += describe(f"[{self.lang} {width}px {shot} {self.page.url}]", axe_violations(self.page))
        self.page.set_viewport_size(VIEWPORTS[390])


def retitle(event_id: int, title: str) -> None:
    db.session.get(Event, event_id).title = title
    db.session.commit()


def room_event(make_event, slug: str, capacity: int, on_sale, **settings) -> tuple[int, int]:
    event_id, (ga,) = make_event({"name": "General admission", "capacity": capacity, "per_order_limit": 4,
                                  "price": 3900, "sales_start": on_sale}, slug=slug, organizer_email=ORGANIZER)
    set_room(event_id, **settings)
    return event_id, ga


@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_page_state_has_no_serious_or_critical_violations(
        lang, app, ctx, browser, live_server, frozen, make_event, rq_redis):
    add_organizer(ORGANIZER)
    shop = {"organizer_email": ORGANIZER}
    avail_id, (ga, vip) = make_event({"name": "General admission", "capacity": 200, "price": 2500},
                                     {"name": "VIP", "capacity": 20, "price": 8900}, slug="jazz", **shop)
    retitle(avail_id, "Summer Jazz Night — Kölner Philharmonie")
    full_id, (full_ga,) = make_event({"name": "General admission", "capacity": 2}, slug="full", **shop)
    soldout_id, (sold_ga,) = make_event({"name": "General admission", "capacity": 1}, slug="soldout", **shop)
    back_id, (back_ga,) = make_event({"name": "General admission", "capacity": 1}, slug="comeback", **shop)
    later_id, _ = make_event({"name": "General admission", "capacity": 50, "sales_start": T0 + timedelta(days=3)},
                             slug="later", **shop)
    refuse_id, (refuse_ga,) = make_event({"name": "General admission", "capacity": 1}, slug="lastone", **shop)
    early_id, _ = room_event(make_event, "room-early", 100, ON_SALE + timedelta(hours=2), opens_minutes_before=180)
    drawn_id, drawn_ga = room_event(make_event, "room-drawn", 2, ON_SALE)
    closed_id, closed_ga = room_event(make_event, "room-closed", 1, ON_SALE)

    held = reserving.reserve("jazz", {ga: 2}, "held@example.test")
    paid = reserving.reserve("jazz", {vip: 2}, "paid@example.test")
    pay(paid.id)
    processing = reserving.reserve("jazz", {ga: 1}, "processing@example.test")
    paying.record_session(processing.id, "cs_test_axe", "http://127.0.0.1:9/pay/cs_test_axe")
    late = reserving.reserve("jazz", {ga: 3}, "late@example.test")  # lapses when the clock moves on
    reserving.reserve("full", {full_ga: 2}, "other@example.test")
    pay(reserving.reserve("soldout", {sold_ga: 1}, "first@example.test").id)
    waiting = waitlist.join("soldout", sold_ga, 1, "waiting@example.test")
    taken = reserving.reserve("comeback", {back_ga: 1}, "other@example.test")
    offered = waitlist.join("comeback", back_ga, 1, "offered@example.test")
    reserving.release(db.session.get(Order, taken.id), actor="test")
    waitlist.serve(back_ga)
    early_place = waiting_room.join("room-early", "early@example.test")
    drawn_places = [waiting_room.join("room-drawn", f"p{n}@example.test") for n in range(5)]
    closed_places = [waiting_room.join("room-closed", f"c{n}@example.test") for n in range(2)]
    tokens = {name: order.token for name, order in
              (("held", held), ("paid", paid), ("processing", processing), ("late", late))}
    (code, *_) = [t.code for t in tickets.tickets(db.session.get(Order, paid.id))]
    db.session.rollback()

    context = browser.new_context(locale=lang, viewport=VIEWPORTS[390])
    walk = Walk(app, context, live_server, lang)
    page = walk.page
    try:
        # --- the shop, before any on-sale of a waiting room ------------------------------------
        walk.visit("event-list", "/")
        walk.visit("event-available", "/events/jazz")
        walk.visit("event-all-reserved", "/events/full")
        walk.visit("event-sold-out", "/events/soldout")
        walk.visit("event-not-yet-on-sale", "/events/later")
        walk.visit("event-before-refusal", "/events/lastone")
        page.locator(f"#qty-{refuse_ga}").select_option("1")
        page.locator("#reserve-form [name=email]").fill("late-comer@example.test")
        reserving.reserve("lastone", {refuse_ga: 1}, "quicker@example.test")  # someone is quicker
        db.session.rollback()
        page.locator("#reserve-form [type=submit]").click()
        page.locator("#reserve-feedback [role=alert]").wait_for()
        walk.check("reserve-refused")

        walk.visit("reservation-held", f"/r/{tokens['held']}")
        walk.visit("release-confirm", f"/r/{tokens['held']}/release")
        page.locator("#release-confirm [type=submit]").click()
        page.locator("#reservation-title").wait_for()  # swapped in place: "You released this reservation"
        walk.check("released")
        walk.visit("payment-processing", f"/r/{tokens['processing']}/payment?session_id=cs_test_axe")
        walk.visit("payment-unfinished", f"/r/{tokens['processing']}/payment")
        walk.visit("paid-tickets", f"/r/{tokens['paid']}/payment")
        walk.visit("printable-tickets", f"/r/{tokens['paid']}/tickets")
        walk.visit("find-tickets", "/tickets")
        page.locator("#find-email").fill("paid@example.test")
        page.locator(".find-tickets [type=submit]").click()
        page.wait_for_load_state()
        walk.check("find-tickets-sent")
        walk.visit("waitlist-waiting", f"/w/{waiting.token}")
        walk.visit("waitlist-offered", f"/w/{offered.token}")
        walk.visit("room-join", "/events/room-early")
        walk.as_browser_with({"room_places": {"room-early": early_place.token}})
        walk.visit("room-before-draw", "/events/room-early/room")
        walk.visit("room-leave-confirm", "/events/room-early/room/leave")

        # --- the on-sale: the rooms draw, the holds of T0 lapse -----------------------------------
        frozen.advance(ON_SALE - T0 + timedelta(seconds=1))
        phases = {p.token: waiting_room.place("room-drawn", p.token) for p in drawn_places}
        admitted = [t for t, p in phases.items() if p.phase == waiting_room.ADMITTED]
        queued = sorted((p for p in phases.values() if p.phase == waiting_room.QUEUED), key=lambda p: p.ahead)
        assert len(admitted) == 2 and len(queued) == 3 and queued[-1].out_of_reach, phases
        walk.as_browser_with({"room_places": {"room-drawn": queued[0].token}})
        walk.visit("room-queued-next", "/events/room-drawn/room")
        walk.as_browser_with({"room_places": {"room-drawn": queued[-1].token}})
        walk.visit("room-unlikely", "/events/room-drawn/room")
        walk.visit("room-waitlist-offer", "/events/room-drawn/room/waitlist")
        walk.as_browser_with({"room_places": {"room-drawn": admitted[0]}})
        walk.visit("room-admitted", "/events/room-drawn/room")  # sent on to the event page, its turn

        closed = {p.token: waiting_room.place("room-closed", p.token) for p in closed_places}
        (first,) = [p for p in closed.values() if p.phase == waiting_room.ADMITTED]
        (second,) = [p for p in closed.values() if p.phase != waiting_room.ADMITTED]
        walk.as_browser_with({"room_places": {"room-closed": second.token}})
        page.goto(f"{live_server}/events/room-closed/room")
        pay(reserving.reserve("room-closed", {closed_ga: 1}, "c-first@example.test", admission=first.admission).id)
        db.session.rollback()
        frozen.advance(timedelta(seconds=1))  # the next tick sees nothing left to sell
        page.locator("#room-live").dispatch_event("countdown-expired")  # the poll, now
        page.locator('#room-live[data-phase="closed"]').wait_for()
        walk.check("room-closed-sold-out")

        walk.as_browser_with(None)
        walk.visit("reservation-expired", f"/r/{tokens['late']}")
        walk.visit("payment-expired", f"/r/{tokens['late']}/payment")
        walk.visit("not-found", "/events/no-such-event", status=404)

        # --- the dashboard ----------------------------------------------------------------------
        reserving.reserve("jazz", {ga: 4, vip: 1}, "live@example.test")  # a live hold in the figures
        db.session.rollback()
        walk.visit("dashboard-login", "/dashboard/login")
        walk.visit("dashboard-signup", "/dashboard/signup")
        page.goto(f"{live_server}/dashboard/login")
        page.locator("#email").fill(ORGANIZER)
        page.locator("#password").fill(PASSWORD)
        page.locator("form:has(#password) [type=submit]").click()
        page.wait_for_url(f"{live_server}/dashboard/")
        walk.check("dashboard-events")
        walk.visit("dashboard-event", f"/dashboard/events/{avail_id}")
        page.locator("#live").wait_for()
        walk.visit("dashboard-event-new", "/dashboard/events/new")
        walk.visit("dashboard-event-edit", f"/dashboard/events/{avail_id}/edit")
        walk.visit("dashboard-ticket-type-new", f"/dashboard/events/{avail_id}/ticket-types/new")
        walk.visit("dashboard-ticket-type-edit", f"/dashboard/events/{avail_id}/ticket-types/{ga}/edit")
        walk.visit("dashboard-orders", f"/dashboard/events/{avail_id}/orders")
        walk.visit("dashboard-order", f"/dashboard/events/{avail_id}/orders/{paid.id}")
        walk.visit("dashboard-event-delete", f"/dashboard/events/{later_id}/delete")
        walk.visit("dashboard-ticket-type-delete", f"/dashboard/events/{avail_id}/ticket-types/{vip}/delete")
        walk.visit("dashboard-waitlist", f"/dashboard/events/{soldout_id}/ticket-types/{sold_ga}/waitlist")
        walk.visit("dashboard-room", f"/dashboard/events/{drawn_id}/room")
        walk.visit("dashboard-checkin", f"/dashboard/events/{avail_id}/checkin")
        page.locator("#code").fill(code)
        page.locator("#scan-form [type=submit]").click()
        page.locator("#scan-result .scan-result").wait_for()
        walk.check("dashboard-checkin-scanned")
        walk.visit("dashboard-password", "/dashboard/password")
    finally:
        context.close()

    print(f"\n{lang}: {len(walk.pages)} page states × {len(VIEWPORTS)} widths in {SCREENSHOTS / lang}")
    assert not walk.problems, (f"{len(walk.problems)} serious/critical axe violations:\n"
                               + "\n".join(walk.problems))

"""Every message to a buyer goes over a real SMTP server and is read back as a mail client
would: once per promise, to the right address, with the event's details in its time zone,
links that open the order, and for a sale every ticket code with its QR code, the calendar
file and the PDF."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar
import psycopg
import requests
from fixtures_mail import attachment, attachment_names, html_of, text_of
from testenv import TEST_DATABASE_URL

from eventsite.domain.models import Event, ObligationKind, Order, OrderStatus
from eventsite.infra.db import db
from eventsite.readmodels import tickets
from eventsite.services import expiry, obligations, paying

S, K = OrderStatus, ObligationKind
HOLD = timedelta(minutes=15)
BUYER = "buyer@example.test"


def _dress(app, event_id: int) -> None:
    """An event as buyers see it: a venue and a time zone other than UTC."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        event.title, event.venue, event.timezone = "Jazz Night", "Blue Hall, 1 Main St", "America/New_York"
        db.session.commit()


def _links(message) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text_of(message))


def _mail(run_jobs) -> None:
    run_jobs("mail")


def test_a_hold_is_told_with_its_end_in_the_events_zone_and_a_link_that_opens_it(
        app, make_event, buyer, inbox, run_jobs, live_server, settings, reload_order):
    settings(PUBLIC_URL=live_server)
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5})
    _dress(app, event_id)
    order = buyer.reserve(event_id, {ga: 2})
    _mail(run_jobs)

    [message] = inbox.to(BUYER)
    assert message["Subject"] == "Reserved for you: Jazz Night"
    body = text_of(message)
    ends = order.expires_at.astimezone(ZoneInfo("America/New_York"))
    assert f"until {ends:%a %d %b %Y, %H:%M} {ends:%Z} (America/New_York)" in body
    assert "Blue Hall, 1 Main St" in body and "2 × GA" in body and "(America/New_York)" in body
    assert f"{live_server}/r/{order.token}" in _links(message)
    assert "Reserved for you" in requests.get(f"{live_server}/r/{order.token}", timeout=5).text
    assert "Jazz Night" in html_of(message)


def test_a_sale_sends_every_ticket_code_with_qr_codes_calendar_and_pdf_once_even_if_paid_twice(
        app, make_event, buyer, devstripe, inbox, run_jobs, settings, live_server, wait_for):
    settings(PUBLIC_URL=live_server)
    event_id, (ga, vip) = make_event({"name": "GA", "capacity": 5}, {"name": "VIP", "capacity": 2, "price": 5000})
    _dress(app, event_id)
    order = buyer.reserve(event_id, {ga: 2, vip: 1})
    checkout_url = buyer.checkout(order.token)
    devstripe.click(checkout_url, "pay")
    [completed] = devstripe.wait_delivered("checkout.session.completed")
    devstripe.resend(completed["id"])  # the provider delivers the payment twice
    wait_for(lambda: devstripe.events("checkout.session.completed")[0]["attempts"] == [200, 200])
    _mail(run_jobs)
    _mail(run_jobs)

    paid = [m for m in inbox.to(BUYER) if m["Subject"] == "Your tickets for Jazz Night"]
    assert len(paid) == 1, [m["Subject"] for m in inbox.to(BUYER)]
    message = paid[0]
    with app.app_context():
        codes = [t.code for t in tickets.tickets(db.session.get(Order, order.id))]
    assert len(codes) == 3
    body, html = text_of(message), html_of(message)
    for code in codes:
        assert code in body and f'alt="QR code for ticket {code}"' in html
    # each QR code is an inline image the HTML points at
    cids = re.findall(r'src="cid:([^"]+)"', html)
    inline = {part["Content-ID"].strip("<>") for part in message.walk() if part["Content-ID"]}
    assert len(cids) == 3 and set(cids) <= inline
    assert {"rush.ics", "rush-tickets.pdf"} <= set(attachment_names(message))
    calendar = icalendar.Calendar.from_ical(attachment(message, "rush.ics"))
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Jazz Night" and str(vevent["LOCATION"]) == "Blue Hall, 1 Main St"
    assert attachment(message, "rush-tickets.pdf").startswith(b"%PDF")
    assert "Blue Hall, 1 Main St" in body and "(America/New_York)" in body
    page = requests.get(f"{live_server}/r/{order.token}/payment", timeout=5).text
    assert f"{live_server}/r/{order.token}/payment" in _links(message) and all(code in page for code in codes)


def test_an_organizer_refund_says_how_much_and_why(
        app, make_event, buyer, devstripe, inbox, run_jobs, reload_order):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5, "price": 2550})
    _dress(app, event_id)
    order = buyer.reserve(event_id, {ga: 2})
    devstripe.click(buyer.checkout(order.token), "pay")
    devstripe.wait_delivered("checkout.session.completed")
    with app.app_context():
        paying.refund_order(order.id, actor="organizer:org@example.test")
    _mail(run_jobs)

    [refund] = [m for m in inbox.to(BUYER) if m["Subject"] == "Refunded: your order for Jazz Night"]
    body = text_of(refund)
    assert "The organizer refunded your order." in body and "Refunded: €51.00" in body
    assert reload_order(order.id).refund_id in body


def _pay_late(app, frozen, buyer, devstripe, event_id, ga):
    order = buyer.reserve(event_id, {ga: 2})
    checkout_url = buyer.checkout(order.token)
    devstripe.configure(deliver=False)
    devstripe.click(checkout_url, "pay")
    frozen.advance(HOLD)
    with app.app_context():
        assert expiry.expire_if_lapsed(order.id)
    return order


def test_a_late_payment_with_no_tickets_left_is_refunded_and_told_why(
        app, frozen, make_event, buyer, devstripe, inbox, run_jobs, reload_order):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    _dress(app, event_id)
    order = _pay_late(app, frozen, buyer, devstripe, event_id, ga)
    buyer.reserve(event_id, {ga: 2}, email="other@example.test")  # takes what the lapsed hold gave back
    devstripe.deliver_held()
    devstripe.wait_delivered("checkout.session.completed")
    run_jobs("default")  # the automatic refund
    _mail(run_jobs)

    assert reload_order(order.id).status == S.REFUNDED
    subjects = [m["Subject"] for m in inbox.to(BUYER)]
    assert subjects == ["Refunded: your order for Jazz Night"]  # the hold message came too late to be true
    assert "arrived after your reservation had ended" in text_of(inbox.to(BUYER)[0])


def test_a_late_payment_that_still_found_tickets_is_confirmed_and_told_so(
        app, frozen, make_event, buyer, devstripe, inbox, run_jobs, reload_order):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5})
    _dress(app, event_id)
    order = _pay_late(app, frozen, buyer, devstripe, event_id, ga)
    devstripe.deliver_held()
    devstripe.wait_delivered("checkout.session.completed")
    _mail(run_jobs)

    assert reload_order(order.id).status == S.CONFIRMED
    [late] = inbox.to(BUYER)
    assert late["Subject"].startswith("Your tickets for Jazz Night (your payment came late")
    assert "the tickets were still available" in text_of(late)
    with app.app_context():
        assert all(t.code in text_of(late) for t in tickets.tickets(db.session.get(Order, order.id)))


def test_a_failed_bank_debit_is_told_with_nothing_charged(
        app, make_event, buyer, devstripe, inbox, run_jobs, live_server, settings):
    settings(PUBLIC_URL=live_server)
    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    _dress(app, event_id)
    order = buyer.reserve(event_id, {ga: 1})
    checkout_url = buyer.checkout(order.token)
    devstripe.click(checkout_url, "delayed")
    devstripe.wait_delivered("checkout.session.completed")
    devstripe.click(checkout_url, "async/failed")
    devstripe.wait_delivered("checkout.session.async_payment_failed")
    _mail(run_jobs)

    [failed] = [m for m in inbox.to(BUYER) if m["Subject"] == "Your payment for Jazz Night did not go through"]
    assert "nothing was charged" in text_of(failed) and f"{live_server}/events/rush" in _links(failed)


def _promised(app, kind: ObligationKind):
    with app.app_context():
        return [(o.attempts, o.last_error is not None, o.done_at is not None)
                for o in obligations.pending() if o.kind == kind]


def test_a_refusing_mail_server_is_retried_and_the_message_sent_once_when_it_takes_mail_again(
        app, frozen, make_event, buyer, inbox, smtp_server, run_jobs, run_due):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5}, hold_minutes=60)
    buyer.reserve(event_id, {ga: 1})

    inbox.refusing = True  # 451: try again later
    _mail(run_jobs)
    assert inbox.to(BUYER) == [] and _promised(app, K.EMAIL_HOLD_PLACED) == [(1, True, False)]

    smtp_server.stop()  # then the server is down altogether
    frozen.advance(timedelta(seconds=10))
    run_due()
    assert _promised(app, K.EMAIL_HOLD_PLACED) == [(2, True, False)]

    smtp_server.start()
    inbox.refusing = False
    frozen.advance(timedelta(seconds=20))
    run_due()
    run_due()
    app.test_cli_runner().invoke(args=["jobs", "sweep"])  # the sweep finds nothing left to do
    assert len(inbox.to(BUYER)) == 1 and _promised(app, K.EMAIL_HOLD_PLACED) == []


def test_no_database_transaction_is_open_while_a_message_is_sent(app, make_event, buyer, inbox, run_jobs):
    """SMTP can take seconds: a snapshot or lock held meanwhile would stall the shop."""
    event_id, (ga,) = make_event()
    buyer.reserve(event_id, {ga: 1})
    open_transactions = []

    def look():
        with psycopg.connect(TEST_DATABASE_URL.replace("+psycopg", "")) as conn:
            open_transactions.append(conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'").fetchone()[0])

    inbox.while_receiving = look
    _mail(run_jobs)
    assert len(inbox.to(BUYER)) == 1 and open_transactions == [0]

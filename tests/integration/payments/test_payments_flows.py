"""Whole payment paths through the dev Stripe server: real HTTP, real SDK, real Redis and RQ."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from eventsite.domain.models import OrderStatus
from eventsite.infra import queue as job_queue
from eventsite.readmodels import availability
from eventsite.services import emails, expiry, obligations

S = OrderStatus
HOLD = timedelta(minutes=15)


def test_reserve_pay_confirmed_with_one_ticket_per_seat(make_event, buyer, devstripe, reload_order, wait_for):
    event_id, (ga, vip) = make_event({"name": "GA", "capacity": 5}, {"name": "VIP", "capacity": 2, "price": 5000})
    order = buyer.reserve(event_id, {ga: 2, vip: 1})

    checkout_url = buyer.checkout(order.token)

    processing = reload_order(order.id)
    assert processing.status == S.PAYMENT_PROCESSING and checkout_url == processing.checkout_url
    [session] = devstripe.state()["sessions"]
    assert session["client_reference_id"] == order.token and session["metadata"]["order_token"] == order.token
    assert session["amount_total"] == 2 * 1000 + 5000 and session["status"] == "open"
    assert session["expires_at"] >= order.expires_at.timestamp() + 30 * 60  # Stripe's minimum

    paid = devstripe.click(checkout_url, "pay")
    assert paid.status_code == 303 and paid.headers["Location"].startswith(f"{buyer.url}/r/{order.token}/payment")
    devstripe.wait_delivered("checkout.session.completed")
    confirmed = reload_order(order.id)
    assert confirmed.status == S.CONFIRMED and confirmed.payment_intent_id.startswith("pi_")

    page = buyer.http.get(paid.headers["Location"], timeout=5).text
    assert "Payment received" in page
    codes = re.findall(r'alt="QR code for ticket (ES-[^"]+)"', page)
    assert len(codes) == 3 and len(set(codes)) == 3
    assert page.count("data:image/svg+xml") == 3


def _expired_by(order, actor: str) -> bool:
    """Expired exactly once, by ``actor`` or by the session-expired webhook that closing
    the session set off (whichever committed first; the other then changed nothing)."""
    expiries = [e for e in order.history if e.to_status == "expired"]
    return len(expiries) == 1 and expiries[0].actor in (actor, "stripe:webhook")


def test_decline_keeps_the_hold_until_it_lapses_then_the_expiry_job_closes_the_session(
        frozen, make_event, buyer, devstripe, reload_order, run_due, ctx):

    event_id, (ga,) = make_event({"name": "GA", "capacity": 3})
    order = buyer.reserve(event_id, {ga: 2})
    checkout_url = buyer.checkout(order.token)

    declined = devstripe.click(checkout_url, "decline")
    assert declined.status_code == 303
    assert "Your card was declined" in devstripe.http.get(devstripe.url + declined.headers["Location"]).text
    assert devstripe.events("checkout.session.completed") == []
    assert reload_order(order.id).status == S.PAYMENT_PROCESSING
    assert availability.figures(event_id)[ga].held == 2

    assert run_due() == []  # the expiry job waits for expires_at
    frozen.advance(HOLD)
    # Named in this installation's namespace, at the whole second of expiry (never before it).
    assert run_due() == [job_queue.job_id(f"expire-order-{order.id}-{int(order.expires_at.timestamp())}")]

    expired = reload_order(order.id)
    assert expired.status == S.EXPIRED and _expired_by(expired, "system:expiry-job")
    assert devstripe.session(expired.stripe_session_id)["status"] == "expired"
    devstripe.wait_delivered("checkout.session.expired")
    assert len([e for e in reload_order(order.id).history if e.to_status == "expired"]) == 1
    assert availability.figures(event_id)[ga].available == 3


def test_walk_away_then_the_per_order_job_expires_hold_and_session(
        frozen, make_event, buyer, devstripe, reload_order, run_due):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    checkout_url = buyer.checkout(order.token)

    # The buyer opens the payment page and follows its cancel link back to the shop.
    page = devstripe.http.get(checkout_url).text
    cancel_url = re.search(r'<a href="([^"]+)">Cancel and return', page).group(1)
    back = buyer.http.get(cancel_url, timeout=5)
    assert "Your payment is not finished yet" in back.text and checkout_url in back.text

    frozen.advance(HOLD)
    run_due()
    expired = reload_order(order.id)
    assert expired.status == S.EXPIRED and _expired_by(expired, "system:expiry-job")
    assert devstripe.session(expired.stripe_session_id)["status"] == "expired"
    assert "has expired" in buyer.http.get(cancel_url, timeout=5).text


def test_walk_away_then_the_sweep_expires_hold_and_session_in_batches(
        app, frozen, make_event, buyer, devstripe, reload_order, settings, caplog):
    caplog.set_level(logging.INFO, logger="eventsite.services.expiry")
    event_id, (ga,) = make_event()
    walked = buyer.reserve(event_id, {ga: 1})
    buyer.checkout(walked.token)
    never_paid = [buyer.reserve(event_id, {ga: 1}, f"never{n}@example.test").id for n in range(2)]  # no session
    frozen.advance(HOLD - timedelta(seconds=1))
    live = buyer.reserve(event_id, {ga: 1}, "live@example.test")
    frozen.advance(timedelta(seconds=1))

    settings(SWEEP_BATCH_SIZE=2)
    devstripe.configure(deliver=False)  # the session-expired webhook comes after the sweep
    result = app.test_cli_runner().invoke(args=["jobs", "sweep"])
    assert result.exit_code == 0 and "Expired 3 lapsed holds." in result.output
    assert "sweep expired 3 lapsed holds" in caplog.text

    assert all(_expired_by(reload_order(i), "system:sweep") for i in [walked.id, *never_paid])
    assert reload_order(live.id).status == S.RESERVED
    assert devstripe.session(reload_order(walked.id).stripe_session_id)["status"] == "expired"
    again = app.test_cli_runner().invoke(args=["jobs", "sweep"])
    assert "Expired 0 lapsed holds." in again.output
    devstripe.deliver_held()
    devstripe.wait_delivered("checkout.session.expired")
    assert _expired_by(reload_order(walked.id), "system:sweep")


def test_async_payment_pending_keeps_the_hold_then_succeeds(
        frozen, make_event, buyer, devstripe, reload_order, run_due, ctx):


    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    order = buyer.reserve(event_id, {ga: 2})
    checkout_url = buyer.checkout(order.token)

    assert devstripe.click(checkout_url, "delayed").status_code == 303
    devstripe.wait_delivered("checkout.session.completed")
    pending = reload_order(order.id)
    assert pending.status == S.PAYMENT_PROCESSING and pending.payment_pending
    page = buyer.http.get(f"{buyer.url}/r/{order.token}/payment", timeout=5).text
    assert "bank payment has been submitted" in page

    frozen.advance(HOLD + timedelta(minutes=10))  # past the hold: the pending payment keeps it
    run_due()
    assert reload_order(order.id).status == S.PAYMENT_PROCESSING
    assert availability.figures(event_id)[ga].available == 0

    assert devstripe.click(checkout_url, "async/succeeded").status_code == 303
    devstripe.wait_delivered("checkout.session.async_payment_succeeded")
    confirmed = reload_order(order.id)
    assert confirmed.status == S.CONFIRMED and not confirmed.payment_pending
    # On time (the pending debit kept the hold): a plain payment, not the late-payment rule.
    assert confirmed.history[-1].reason == "paid (checkout.session.async_payment_succeeded)"
    assert availability.figures(event_id)[ga].sold == 2


def test_async_payment_pending_then_failed_expires_the_order(
        make_event, buyer, devstripe, reload_order, ctx):


    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    order = buyer.reserve(event_id, {ga: 2})
    checkout_url = buyer.checkout(order.token)
    devstripe.click(checkout_url, "delayed")
    devstripe.wait_delivered("checkout.session.completed")

    devstripe.click(checkout_url, "async/failed")
    devstripe.wait_delivered("checkout.session.async_payment_failed")
    failed = reload_order(order.id)
    assert failed.status == S.EXPIRED and not failed.payment_pending
    assert availability.figures(event_id)[ga].available == 2
    page = buyer.http.get(f"{buyer.url}/r/{order.token}/payment", timeout=5).text
    assert "Your bank payment did not go through." in page and "nothing was charged" in page


def test_processing_page_polls_until_the_webhook_confirms(make_event, buyer, devstripe, reload_order):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    checkout_url = buyer.checkout(order.token)
    devstripe.configure(deliver=False)  # the webhook is slow today
    success_url = devstripe.click(checkout_url, "pay").headers["Location"]

    page = buyer.http.get(success_url, timeout=5).text
    assert page.count("Processing payment…") == 1 and f"/r/{order.token}/payment/poll" in page  # said once
    poll = buyer.http.get(f"{buyer.url}/r/{order.token}/payment/poll", headers={"HX-Request": "true"})
    assert "HX-Redirect" not in poll.headers and "Waiting for the payment provider to confirm it" in poll.text

    devstripe.deliver_held()
    devstripe.wait_delivered("checkout.session.completed")
    poll = buyer.http.get(f"{buyer.url}/r/{order.token}/payment/poll", headers={"HX-Request": "true"})
    assert poll.headers["HX-Redirect"] == f"/r/{order.token}/payment"
    assert "Your tickets" in buyer.http.get(success_url, timeout=5).text


def _pay_while_held_back(frozen, make_event, buyer, devstripe, capacity: int):
    """A payment completes at Stripe, but its webhook only arrives after the hold was expired."""


    event_id, (ga,) = make_event({"name": "GA", "capacity": capacity})
    order = buyer.reserve(event_id, {ga: 2})
    checkout_url = buyer.checkout(order.token)
    devstripe.configure(deliver=False)
    devstripe.click(checkout_url, "pay")
    frozen.advance(HOLD)
    with buyer.app.app_context():
        assert expiry.expire_if_lapsed(order.id)
    return event_id, ga, order


def test_completed_after_expired_confirms_when_capacity_remains(
        frozen, make_event, buyer, devstripe, reload_order):
    event_id, ga, order = _pay_while_held_back(frozen, make_event, buyer, devstripe, capacity=5)
    other = buyer.reserve(event_id, {ga: 3}, email="other@example.test")  # leaves exactly 2

    devstripe.deliver_held()
    devstripe.wait_delivered("checkout.session.completed")
    confirmed = reload_order(order.id)
    assert confirmed.status == S.CONFIRMED
    assert "late payment; capacity remained" in confirmed.history[-1].reason
    assert reload_order(other.id).status == S.RESERVED


def test_completed_after_expired_without_capacity_is_refunded_automatically(
        frozen, make_event, buyer, devstripe, reload_order, run_jobs, ctx):


    event_id, ga, order = _pay_while_held_back(frozen, make_event, buyer, devstripe, capacity=3)
    other = buyer.reserve(event_id, {ga: 2}, email="other@example.test")  # only 1 left now

    devstripe.deliver_held()
    devstripe.wait_delivered("checkout.session.completed")
    assert reload_order(order.id).status == S.EXPIRED  # never oversold: no capacity for it
    run_jobs("default")  # the refund job

    refunded = reload_order(order.id)
    [refund] = devstripe.state()["refunds"]
    assert refunded.status == S.REFUNDED and refunded.refund_id == refund["id"]
    assert refund["payment_intent"] == refunded.payment_intent_id
    assert "no capacity" in refunded.history[-1].reason and refund["id"] in refunded.history[-1].reason
    assert reload_order(other.id).status == S.RESERVED
    figures = availability.figures(event_id)[ga]
    assert figures.sold == 0 and figures.held == 2
    page = buyer.http.get(f"{buyer.url}/r/{order.token}/payment", timeout=5).text
    assert "refunded" in page and refund["id"] in page


def test_redis_down_the_sale_still_completes(make_event, buyer, devstripe, reload_order, settings, caplog):
    settings(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    assert "will be expired by the sweep" in caplog.text

    pressed = buyer.press_pay_now(order.token)
    assert pressed.status_code == 200 and "running create_session" in caplog.text
    checkout_url = buyer.poll_preparing(order.token).headers["HX-Redirect"]
    devstripe.click(checkout_url, "pay")
    devstripe.wait_delivered("checkout.session.completed")
    assert reload_order(order.id).status == S.CONFIRMED


def test_failed_session_job_shows_a_clear_message_and_keeps_the_hold(
        make_event, buyer, devstripe, reload_order, settings, run_jobs, rq_redis, ctx):
    from rq import Queue


    settings(DEVSTRIPE_URL="http://127.0.0.1:1")  # the payment provider is unreachable
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    buyer.press_pay_now(order.token)
    run_jobs("default")

    poll = buyer.poll_preparing(order.token)
    assert "We could not start the payment" in poll.text and "Pay now" in poll.text
    kept = reload_order(order.id)
    assert kept.status == S.RESERVED and kept.stripe_session_id is None
    assert availability.figures(event_id)[ga].held == 1
    assert len(Queue("default", connection=rq_redis).scheduled_job_registry) == 1  # retried with backoff

    settings(DEVSTRIPE_URL=devstripe.url)  # back up: pressing Pay now again works
    assert buyer.checkout(order.token) == reload_order(order.id).checkout_url
    assert reload_order(order.id).payment_error is None


def test_pay_now_without_csrf_token_is_refused_and_changes_nothing(make_event, buyer, rq_redis, reload_order):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    refused = buyer.http.post(f"{buyer.url}/r/{order.token}/pay", headers={"HX-Request": "true"})
    assert refused.status_code == 400
    assert reload_order(order.id).status == S.RESERVED
    assert rq_redis.llen("rq:queue:default") == 0


def test_pay_now_on_an_ended_hold_is_refused(frozen, make_event, buyer, rq_redis, reload_order):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    frozen.advance(HOLD)
    refused = buyer.press_pay_now(order.token)
    assert refused.status_code == 409 and "This hold has expired; reserve again." in refused.text
    assert rq_redis.llen("rq:queue:default") == 0 and reload_order(order.id).payment_error is None


def test_paid_with_the_webhook_still_on_its_way_the_expiry_job_lets_the_payment_win(
        frozen, make_event, buyer, devstripe, reload_order, run_due):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    checkout_url = buyer.checkout(order.token)
    devstripe.configure(deliver=False)
    devstripe.click(checkout_url, "pay")
    frozen.advance(HOLD)

    run_due()
    confirmed = reload_order(order.id)
    assert confirmed.status == S.CONFIRMED and confirmed.history[-1].actor == "system:expiry-job"
    assert devstripe.session(confirmed.stripe_session_id)["status"] == "complete"

    devstripe.deliver_held()
    devstripe.wait_delivered("checkout.session.completed")
    assert [e.to_status for e in reload_order(order.id).history] == ["reserved", "payment_processing", "confirmed"]


def test_bank_debit_pending_when_the_sweep_comes_keeps_the_hold(
        app, frozen, make_event, buyer, devstripe, reload_order, ctx):


    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    order = buyer.reserve(event_id, {ga: 1})
    checkout_url = buyer.checkout(order.token)
    devstripe.configure(deliver=False)
    devstripe.click(checkout_url, "delayed")
    frozen.advance(HOLD)
    assert availability.figures(event_id)[ga].available == 1  # lapsed: nobody knows of the debit yet

    assert "Expired 0 lapsed holds." in app.test_cli_runner().invoke(args=["jobs", "sweep"]).output
    kept = reload_order(order.id)
    assert kept.status == S.PAYMENT_PROCESSING and kept.payment_pending
    assert availability.figures(event_id)[ga].available == 0


def test_a_refund_that_failed_is_retried_by_the_sweep(
        app, frozen, make_event, buyer, devstripe, reload_order, run_jobs, settings, rq_redis):
    event_id, ga, order = _pay_while_held_back(frozen, make_event, buyer, devstripe, capacity=2)
    buyer.reserve(event_id, {ga: 2}, email="other@example.test")
    devstripe.deliver_held()
    devstripe.wait_delivered("checkout.session.completed")

    settings(DEVSTRIPE_URL="http://127.0.0.1:1")  # the refund cannot reach the provider
    run_jobs("default")
    owed = reload_order(order.id)
    assert owed.status == S.EXPIRED and owed.refund_id is None and owed.payment_intent_id
    with app.app_context():  # the promise stands, with what went wrong, due again after a backoff
        [promised] = [o for o in obligations.pending() if o.kind not in emails.SUBJECTS]
        assert (promised.kind.value, promised.order_id, promised.attempts) == ("refund_payment", order.id, 1)
        assert "did not refund" in promised.last_error and promised.due_at > frozen.now()
    rq_redis.flushdb()  # even if the queued retries were lost

    settings(DEVSTRIPE_URL=devstripe.url)
    frozen.advance(timedelta(minutes=5))  # the next sweep
    app.test_cli_runner().invoke(args=["jobs", "sweep"])
    run_jobs("default")
    refunded = reload_order(order.id)
    assert refunded.status == S.REFUNDED and refunded.refund_id == devstripe.state()["refunds"][0]["id"]


def test_a_pending_bank_debit_holds_for_the_events_limit_then_goes_the_late_payment_way(
        app, frozen, make_event, buyer, devstripe, reload_order, ctx):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    order = buyer.reserve(event_id, {ga: 1})
    hold_page = " ".join(buyer.http.get(f"{buyer.url}/r/{order.token}", timeout=5).text.split())
    assert "stay reserved while the bank confirms it, for up to 72 hours" in hold_page  # told before choosing
    checkout_url = buyer.checkout(order.token)
    devstripe.click(checkout_url, "delayed")
    devstripe.wait_delivered("checkout.session.completed")
    pending = reload_order(order.id)
    assert pending.payment_pending and pending.pending_until == frozen.now() + timedelta(hours=72)
    page = buyer.http.get(f"{buyer.url}/r/{order.token}/payment", timeout=5).text
    assert "at the latest until" in page  # the buyer is told how long the debit keeps the tickets

    frozen.advance(timedelta(hours=72) - timedelta(seconds=1))
    assert availability.figures(event_id)[ga].available == 0
    frozen.advance(timedelta(seconds=1))  # the limit: the tickets count as free at that instant
    assert availability.figures(event_id)[ga].available == 1
    assert "Expired 1 lapsed holds." in app.test_cli_runner().invoke(args=["jobs", "sweep"]).output
    assert reload_order(order.id).status == S.EXPIRED

    devstripe.click(checkout_url, "async/succeeded")  # the bank answers after all, with tickets left
    devstripe.wait_delivered("checkout.session.async_payment_succeeded")
    late = reload_order(order.id)
    assert late.status == S.CONFIRMED and not late.payment_pending
    assert late.history[-1].reason.endswith("(late payment; capacity remained)")


def test_after_cancel_the_payment_page_counts_down_offers_pay_and_release_then_says_expired(
        app, frozen, make_event, buyer, devstripe, reload_order):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    order = buyer.reserve(event_id, {ga: 1})
    checkout_url = buyer.checkout(order.token)
    cancelled = buyer.http.get(devstripe.session(reload_order(order.id).stripe_session_id)["cancel_url"], timeout=5)
    assert "Reserved for you (expires in" in cancelled.text and 'data-seconds-left="900"' in cancelled.text
    assert f'href="{checkout_url}" role="button">Pay now' in cancelled.text
    assert f'action="/r/{order.token}/release"' in cancelled.text

    frozen.advance(HOLD)  # lapsed: no job has run, the page says so at once
    page = buyer.http.get(f"{buyer.url}/r/{order.token}/payment", timeout=5).text
    assert "This hold has expired" in page and "Reserved for you" not in page and "Pay now" not in page
    poll = buyer.http.get(f"{buyer.url}/r/{order.token}/payment/poll?unfinished=1", timeout=5,
                          headers={"HX-Request": "true"})
    assert poll.headers["HX-Redirect"] == f"/r/{order.token}/payment"


def test_release_from_the_payment_page_gives_the_tickets_back(app, make_event, buyer, devstripe, reload_order, ctx):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    order = buyer.reserve(event_id, {ga: 1})
    buyer.checkout(order.token)
    page = buyer.http.get(f"{buyer.url}/r/{order.token}/payment", timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    released = buyer.http.post(f"{buyer.url}/r/{order.token}/release", data={"csrf_token": token}, timeout=5)
    assert released.status_code == 200 and "You released this reservation" in released.text
    assert reload_order(order.id).status == S.CANCELLED
    assert availability.figures(event_id)[ga].available == 1

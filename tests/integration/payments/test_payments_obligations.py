"""Work promised for later is kept in PostgreSQL and done exactly once: closing the
checkout session of a released hold, refunding a payment that found no tickets; the
per-order expiry job never acts early; the sweep comes back after Redis lost its data;
confirming decides on "now" read after the locks."""
from __future__ import annotations

from datetime import timedelta

from races import before_statement
from rq import Queue
from rq.registry import ScheduledJobRegistry

from eventsite.domain.clock import clock
from eventsite.domain.models import Obligation, Order, OrderStatus
from eventsite.infra import queue as job_queue
from eventsite.infra.db import db
from eventsite.readmodels import availability, lookups
from eventsite.services import emails, expiry, obligations, paying, reserving
from worker import SimpleAppWorker

S = OrderStatus
HOLD = timedelta(minutes=15)


def _release(app, token: str) -> None:
    with app.app_context():
        reserving.release(lookups.order_by_token(token), actor="buyer:test")


def _obligations(app) -> list[tuple[str, int, bool, int]]:
    """The payment work promised (messages to buyers have tests of their own)."""
    with app.app_context():
        return [(o.kind.value, o.order_id, o.done_at is not None, o.attempts)
                for o in db.session.query(Obligation).order_by(Obligation.id) if o.kind not in emails.SUBJECTS]


def test_release_closes_the_checkout_session_so_it_can_no_longer_be_paid(
        app, make_event, buyer, devstripe, reload_order, run_jobs):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 2})
    order = buyer.reserve(event_id, {ga: 2})
    checkout_url = buyer.checkout(order.token)

    _release(app, order.token)
    assert _obligations(app) == [("expire_session", order.id, False, 0)]  # promised with the release
    run_jobs("default")

    assert _obligations(app) == [("expire_session", order.id, True, 1)]
    session_id = reload_order(order.id).stripe_session_id
    assert devstripe.session(session_id)["status"] == "expired"
    assert "This checkout session has expired" in devstripe.http.get(checkout_url, timeout=5).text
    pay = devstripe.http.post(f"{checkout_url}/pay", allow_redirects=False, timeout=5)
    assert pay.status_code == 303 and devstripe.session(session_id)["status"] == "expired"  # nothing paid
    assert devstripe.events("checkout.session.completed") == []
    assert reload_order(order.id).status == S.CANCELLED
    with app.app_context():
        assert availability.figures(event_id)[ga].available == 2


def test_with_redis_down_the_promise_waits_for_the_sweep_and_is_done_once(
        app, make_event, buyer, devstripe, reload_order, settings, caplog):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    buyer.checkout(order.token)
    settings(REDIS_URL="redis://127.0.0.1:1/0")
    app.extensions.pop("redis", None)

    _release(app, order.token)
    assert "work_obligation" in caplog.text and "left to the sweep" in caplog.text
    session_id = reload_order(order.id).stripe_session_id
    assert devstripe.session(session_id)["status"] == "open"  # not yet: nothing queued it

    app.test_cli_runner().invoke(args=["jobs", "sweep"])
    app.test_cli_runner().invoke(args=["jobs", "sweep"])  # a second sweep finds nothing left to do
    assert devstripe.session(session_id)["status"] == "expired"
    assert _obligations(app) == [("expire_session", order.id, True, 1)]


def test_a_worker_that_died_holding_a_promise_is_replaced_once_its_claim_lapses(
        app, frozen, make_event, buyer, devstripe, reload_order, rq_redis, run_jobs):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    buyer.checkout(order.token)
    run_jobs("mail")  # the hold's message is not what this is about
    _release(app, order.token)
    rq_redis.flushdb()  # the queued job is lost too
    with app.app_context():
        [promised] = [o for o in obligations.pending() if o.kind not in emails.SUBJECTS]
        promised.claimed_until = clock.now() + timedelta(minutes=5)  # as a worker killed mid-call left it
        db.session.commit()
        assert obligations.work_due(10) == 0  # still claimed: nobody else runs it
    frozen.advance(timedelta(minutes=5))
    with app.app_context():
        assert obligations.work_due(10) == 1
    assert devstripe.session(reload_order(order.id).stripe_session_id)["status"] == "expired"
    assert len(devstripe.events("checkout.session.expired")) == 1
    assert _obligations(app) == [("expire_session", order.id, True, 1)]


def test_an_expiry_job_that_comes_early_waits_for_the_instant(app, frozen, make_event, buyer, rq_redis,
                                                                reload_order, run_jobs):
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 1})
    registry = ScheduledJobRegistry(queue=Queue(job_queue.CLEANUP, connection=rq_redis))
    [scheduled] = registry.get_job_ids()
    assert registry.get_scheduled_time(scheduled).timestamp() == order.expires_at.timestamp()

    frozen.advance(HOLD - timedelta(seconds=1))  # the scheduler ran it a second early (clock edge)
    registry.remove(scheduled)
    Queue(job_queue.CLEANUP, connection=rq_redis).enqueue_job(
        Queue(job_queue.CLEANUP, connection=rq_redis).fetch_job(scheduled))
    run_jobs("cleanup")
    assert reload_order(order.id).status == S.RESERVED
    [again] = registry.get_job_ids()  # it put itself back, after the instant
    assert again != scheduled and registry.get_scheduled_time(again).timestamp() > order.expires_at.timestamp()

    frozen.advance(timedelta(seconds=2))
    registry.remove(again)
    Queue(job_queue.CLEANUP, connection=rq_redis).enqueue_job(Queue(job_queue.CLEANUP, connection=rq_redis)
                                                              .fetch_job(again))
    run_jobs("cleanup")
    assert reload_order(order.id).status == S.EXPIRED


def test_the_sweep_comes_back_after_redis_lost_its_data(app, rq_redis):
    with app.app_context():
        app.test_cli_runner().invoke(args=["jobs", "schedule"])
        assert job_queue.sweep_job_id() in job_queue.scheduler()
        rq_redis.flushdb()  # Redis restarted empty
        assert job_queue.sweep_job_id() not in job_queue.scheduler()
    SimpleAppWorker([Queue("default", connection=rq_redis)], connection=rq_redis, app=app)  # a worker starts
    with app.app_context():
        [sweep] = list(job_queue.scheduler().get_jobs())
        assert sweep.id == job_queue.sweep_job_id() and sweep.meta["interval"] == app.config["SWEEP_INTERVAL_SECONDS"]
        assert sweep.result_ttl == -1  # kept however long no sweep completes
        assert not expiry.ensure_sweep()  # registered once, not twice


def test_installations_sharing_a_redis_name_their_jobs_apart(app, settings):
    with app.app_context():
        mine = job_queue.job_id("expire-order-1-100")
        settings(JOB_ID_PREFIX="es-other")
        assert job_queue.job_id("expire-order-1-100") != mine and mine.endswith("-expire-order-1-100")


def test_a_payment_at_the_expiry_instant_is_decided_on_now_read_after_the_locks(app, frozen, make_event):
    """The webhook's clock said "live" when it started; while it waited for the ticket type lock
    the hold lapsed and another buyer took the last ticket. Deciding after the lock: refund."""
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    with app.app_context():
        first = reserving.reserve("rush", {ga: 1}, "first@example.test")
        first_id, expires_at = first.id, first.expires_at
    frozen.freeze(expires_at - timedelta(microseconds=1))

    def while_waiting_for_the_lock():
        frozen.freeze(expires_at)  # the instant passes while this request waits
        with app.app_context():  # and the other buyer takes the ticket
            reserving.reserve("rush", {ga: 1}, "second@example.test")

    def locking_ticket_types(sql: str) -> bool:
        return "FROM ticket_types" in sql and "FOR NO KEY UPDATE" in sql

    with app.app_context():
        with before_statement(db.engine, locking_ticket_types, while_waiting_for_the_lock) as raced:
            confirmed = paying.confirm_payment(first_id, reason="paid", actor="test")
        figure = availability.figures(event_id)[ga]
        assert raced and confirmed is False
        assert (figure.sold, figure.held) == (0, 1)  # the other buyer's hold; never oversold
        assert db.session.get(Order, first_id).status == S.EXPIRED

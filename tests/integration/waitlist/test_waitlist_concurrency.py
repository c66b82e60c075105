"""The waiting list under real concurrency: threads of their own (each with an app context and
its own database connection) join, leave, serve, sweep, pay and try to buy while holds and offers lapse.
Every check counts in SQL (waitlist_support), never through the services under test."""
from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from waitlist_support import assert_not_oversold, assert_offers_are_a_prefix, entry_statuses, taken

from eventsite.domain.clock import now
from eventsite.domain.errors import Conflict, SoldOut
from eventsite.domain.models import Order, OrderStatus, WaitlistStatus
from eventsite.infra.db import db
from eventsite.infra.transactions import Busy
from eventsite.readmodels import availability, waitlist_places
from eventsite.services import expiry, paying, reserving, waitlist

CAPACITY = 6
BUYERS = 50
LEAVERS = {n for n in range(BUYERS) if n % 10 == 9}  # leave right after joining
PAYERS = {n for n in range(BUYERS) if n % 4 == 0}  # pay their offer when they see it
HOLD, OFFER = timedelta(minutes=10), timedelta(minutes=5)
MOVES = 6  # the holds lapse, then five times every offer out lapses

# A join is refused while the public could buy instead (free tickets beyond what the line waits
# for). Each move frees at most CAPACITY tickets, each offered to one entry, so the clock moves
# for the k-th time only once CAPACITY * (k + 1) buyers who stay have joined: the line then always
# waits for at least what is free, and every one of the 50 joins must succeed.
assert CAPACITY * (MOVES + 1) <= BUYERS - len(LEAVERS)


def _in_app(app, work):
    """``work()`` in an app context of its own (a request's or a job's), its session closed after."""
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def test_fifty_buyers_join_while_holds_and_offers_lapse(app, ctx, frozen, make_event, rq_redis):
    event_id, [ga] = make_event({"name": "GA", "capacity": CAPACITY, "per_order_limit": 1}, slug="crowd",
                                hold_minutes=HOLD.seconds // 60, offer_minutes=OFFER.seconds // 60)
    for n in range(CAPACITY):
        reserving.reserve("crowd", {ga: 1}, f"early{n}@example.test")
    db.session.commit()

    start, stop = threading.Event(), threading.Event()
    progress = threading.Condition()  # guards ``done``; told of every join and every piece of work
    done, offers = Counter(), []

    def tell(what: str) -> None:
        with progress:
            done[what] += 1
            progress.notify_all()

    def buyer(n: int) -> tuple[int, str]:
        start.wait()
        try:
            entry = _in_app(app, lambda: waitlist.join("crowd", ga, 1, f"buyer{n}@example.test"))
        except BaseException:
            tell("refused")  # the clock mover stops waiting; the buyer's result raises below
            raise
        if n not in LEAVERS:
            tell("stayed")
            return entry.id, "waiting"
        try:  # the next request
            _in_app(app, lambda: waitlist.leave(entry.token))
            return entry.id, "left"
        except Conflict:  # served between joining and leaving: a hold now, not a place
            return entry.id, "offered"

    def serve():
        offers.extend(waitlist.serve(ga))

    def sweep():
        expiry.sweep()

    def pay():
        live_offers = db.session.scalars(select(Order.id).where(
            Order.waitlist_entry_id.is_not(None), Order.status == OrderStatus.RESERVED, Order.expires_at > now(),
            Order.email.in_([f"buyer{n}@example.test" for n in PAYERS]))).all()
        for order_id in live_offers:
            paying.confirm_payment(order_id, reason="paid", actor="test")

    public_buyers = itertools.count()

    def public():
        """Someone not in line tries to buy: the line always waits for all that is free, so never."""
        with pytest.raises(SoldOut):
            reserving.reserve("crowd", {ga: 1}, f"public{next(public_buyers)}@example.test")

    def sample():
        at = now()
        figures = taken(event_id, at)
        if now() == at:  # else the clock moved meanwhile: holds placed after ``at`` would count at it
            assert all(sold + held <= capacity for capacity, sold, held in figures.values()), figures
        entry_statuses(event_id)  # one offer per offered entry, none for any other
        assert_offers_are_a_prefix(ga)

    def keep_doing(work):
        """A worker doing ``work`` again and again until the end; a lock not granted in time
        (Busy) is what a job retries."""
        def loop():
            start.wait()
            while not stop.is_set():
                try:
                    _in_app(app, work)
                    tell(work.__name__)
                except Busy:
                    tell("busy")
                except BaseException:
                    tell("failed")  # the clock mover stops waiting; the worker's result raises below
                    raise
        return loop

    def moved_on(since: Counter, k: int) -> bool:
        """May the clock move for the k-th time: enough buyers stay in line (see the module's
        assertion), and since the last move every kind of worker has had a turn."""
        if done["refused"] or done["failed"]:
            return True
        return done["stayed"] >= CAPACITY * (min(k, MOVES) + 1) and all(
            done[w] > since[w] for w in ("serve", "sweep", "pay", "public", "sample"))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=BUYERS + 8) as pool:
        buyers = [pool.submit(buyer, n) for n in range(BUYERS)]
        workers = [pool.submit(keep_doing(work)) for work in (serve, serve, sweep, sweep, pay, public, sample, sample)]
        start.set()
        try:
            for k in range(1, MOVES + 2):
                with progress:
                    since = Counter(done)
                    assert progress.wait_for(lambda k=k, since=since: moved_on(since, k), timeout=120), done
                if done["refused"] or done["failed"] or k > MOVES:  # the last round serves the last move
                    break
                frozen.advance(HOLD if k == 1 else OFFER)
            outcomes = dict(b.result() for b in buyers)  # any refused join fails here
        finally:
            stop.set()
        for w in workers:
            w.result()  # any failed sample fails here
    seconds = time.monotonic() - started

    db.session.commit()
    statuses = entry_statuses(event_id)
    assert sorted(statuses) == sorted(outcomes)  # every buyer has a place, and only one
    possible = {"waiting": {"waiting", "offered"}, "left": {"left"}, "offered": {"offered"}}
    assert all(statuses[entry_id] in possible[outcome] for entry_id, outcome in outcomes.items())
    tally = Counter(statuses.values())
    assert tally["waiting"] + tally["offered"] + tally["left"] == BUYERS
    assert tally["left"] == sum(o == "left" for o in outcomes.values())
    assert_offers_are_a_prefix(ga)
    assert_not_oversold(event_id, now())
    figure = availability.figures(event_id)[ga]
    # The line took every ticket that came back: nothing free while people still wait.
    assert figure.waiting_people > 0 and figure.free == 0 and figure.sold + figure.held == CAPACITY
    assert tally["offered"] > CAPACITY and figure.sold > 0  # offers were paid, and others lapsed and passed on
    print(f"\n{BUYERS} buyers, {MOVES} clock moves in {seconds:.1f} s: {dict(tally)}, {len(offers)} offers by "
          f"serve() (others by sweeps), {figure.sold} sold; work done: {dict(done)}")


def _waiting_on_a_lock() -> bool:
    """Is some other transaction of this database waiting for a row lock right now?"""
    with db.engine.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")))


def _wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"waited 30 s for {what}"
        time.sleep(0.01)  # synchronising threads, not business time


def test_two_serves_at_once_make_one_offer_per_free_ticket(app, ctx, frozen, make_event):
    """The first serve holds the ticket type's lock until the second is seen waiting for it."""
    event_id, [ga] = make_event({"name": "GA", "capacity": 4, "per_order_limit": 1}, slug="pair",
                                hold_minutes=10)
    for n in range(4):
        reserving.reserve("pair", {ga: 1}, f"early{n}@example.test")
    line = [waitlist.join("pair", ga, 1, f"w{n}@example.test").id for n in range(6)]
    frozen.advance(timedelta(minutes=10))  # the four holds lapse: four tickets, promised to the line
    db.session.commit()
    first_holds_the_lock = threading.Event()
    first = []

    def pause_once_locked(_conn, _cursor, statement, *_):
        # The line is read under the ticket type's lock: the first serve has it now.
        if first == [threading.get_ident()] and "FROM waitlist_entries" in statement and "FOR UPDATE" in statement:
            first_holds_the_lock.set()
            _wait_until(_waiting_on_a_lock, "the second serve to wait for the lock")

    def serve(is_first: bool) -> list[int]:
        if is_first:
            first.append(threading.get_ident())
        else:
            first_holds_the_lock.wait(timeout=30)
        return _in_app(app, lambda: [o.waitlist_entry_id for o in waitlist.serve(ga)])

    sa_event.listen(db.engine, "before_cursor_execute", pause_once_locked)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            made_first, made_second = pool.submit(serve, True), pool.submit(serve, False)
            made_first, made_second = made_first.result(), made_second.result()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", pause_once_locked)

    assert first_holds_the_lock.is_set()
    assert (made_first, made_second) == (line[:4], [])  # the second saw the first's offers as holds
    db.session.rollback()
    assert entry_statuses(event_id) == {**{i: "offered" for i in line[:4]}, **{i: "waiting" for i in line[4:]}}
    assert_not_oversold(event_id, now())
    figure = availability.figures(event_id)[ga]
    assert (figure.held, figure.free, figure.waiting_people) == (4, 0, 2)


def test_an_entry_still_joining_while_the_line_is_served_is_not_passed_over(app, ctx, frozen, make_event):
    """A joins (its entry takes the lower id) but has not committed when B joins, a ticket comes
    back and the line is served. Today B, behind A, gets the offer and A is left at the head."""
    event_id, [ga] = make_event({"name": "GA", "capacity": 1, "per_order_limit": 1}, slug="late")
    hold_id = reserving.reserve("late", {ga: 1}, "early@example.test").id
    db.session.commit()
    joining = threading.get_ident()
    others = []

    def b_joins_and_the_ticket_comes_back():
        waitlist.join("late", ga, 1, "b@example.test")
        reserving.release(db.session.get(Order, hold_id), actor="buyer")
        waitlist.serve(ga)

    def pause_before_commit(_conn, _cursor, statement, *_):
        # A's entry is written (its id taken), not committed: B's whole story runs now, unless
        # it has to wait for A (then A goes on, and commits).
        if threading.get_ident() == joining and not others and "INSERT INTO obligations" in statement:
            others.append(pool.submit(_in_app, app, b_joins_and_the_ticket_comes_back))
            _wait_until(lambda: others[0].done() or _waiting_on_a_lock(), "B's story to end or to wait for A")

    sa_event.listen(db.engine, "before_cursor_execute", pause_before_commit)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            _in_app(app, lambda: waitlist.join("late", ga, 1, "a@example.test"))
            others[0].result()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", pause_before_commit)
    db.session.rollback()
    assert entry_statuses(event_id).keys() == {1, 2}  # A's entry took the lower id
    assert_offers_are_a_prefix(ga)  # fails today: A waits while B, behind it, was served


def test_leaving_is_refused_once_an_offer_came_even_if_the_place_was_read_before(app, ctx, frozen, make_event):
    """A request reads the place (waiting), an offer is made meanwhile, then the request leaves."""
    event_id, [ga] = make_event({"name": "GA", "capacity": 1, "per_order_limit": 1}, slug="stale")
    hold_id = reserving.reserve("stale", {ga: 1}, "early@example.test").id
    token = waitlist.join("stale", ga, 1, "w@example.test").token
    db.session.commit()
    place = waitlist_places.entry_by_token(token)  # this request reads the place, and keeps it
    assert place.status == WaitlistStatus.WAITING

    def the_ticket_comes_back_and_is_offered():
        reserving.release(db.session.get(Order, hold_id), actor="buyer")
        return len(waitlist.serve(ga))

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(_in_app, app, the_ticket_comes_back_and_is_offered).result() == 1
    try:
        waitlist.leave(place.token)
    except Conflict:
        pass
    db.session.rollback()
    assert entry_statuses(event_id) == {1: "offered"}  # fails: the place says "left", its offer is live

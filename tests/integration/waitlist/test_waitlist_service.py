"""The waiting list through its services, against PostgreSQL and Redis: who gets the
tickets that come back, when, and in what order; and renewing a hold."""
from __future__ import annotations

from datetime import timedelta

import pytest
from fixtures_mail import text_of

from eventsite.domain.errors import Conflict, HoldExpired, InvalidRequest, LineFirst, SoldOut
from eventsite.domain.models import Order, OrderEvent, OrderStatus, TicketType, WaitlistEntry, WaitlistStatus
from eventsite.domain.renewals import NotRenewable
from eventsite.infra.db import db
from eventsite.readmodels import availability, waitlist_places
from eventsite.services import expiry, renewing, reserving, waitlist


@pytest.fixture
def sold_out(rq_redis, ctx, frozen, make_event):
    """An event whose 2 GA tickets are both held (by a@ and b@), with an event page that shows none."""
    event_id, [ga] = make_event({"name": "GA", "capacity": 2, "per_order_limit": 4}, slug="gig")
    a = reserving.reserve("gig", {ga: 1}, "a@example.test")
    b = reserving.reserve("gig", {ga: 1}, "b@example.test")
    return event_id, ga, a, b


def fresh(model, id_):
    db.session.expire_all()  # jobs ran in sessions of their own
    return db.session.get(model, id_)


def figure(event_id, ga):
    return availability.figures(event_id)[ga]


def offers_of(email):
    db.session.expire_all()
    return db.session.query(Order).filter(Order.email == email, Order.waitlist_entry_id.is_not(None)).all()


def test_a_lapsed_hold_is_promised_to_the_line_at_its_instant_and_offered_when_the_job_runs(
        sold_out, frozen, run_due, run_jobs):
    event_id, ga, a, _ = sold_out
    entry = waitlist.join("gig", ga, 1, "w@example.test")
    assert waitlist_places.position(entry) == 1
    frozen.advance(timedelta(minutes=15))  # a's and b's holds lapse at this instant; no job has run
    shown = figure(event_id, ga)
    assert (shown.free, shown.promised, shown.available, shown.waiting_people) == (2, 1, 1, 1)
    reserving.reserve("gig", {ga: 1}, "public1@example.test")  # the one nobody waits for
    with pytest.raises(LineFirst, match="1 person is on the waiting list"):
        reserving.reserve("gig", {ga: 1}, "public2@example.test")
    run_due()  # the expiry jobs, then the offer they prompt
    run_jobs("default")
    [offer] = offers_of("w@example.test")
    assert offer.status == OrderStatus.RESERVED and offer.waitlist_entry_id == entry.id
    assert offer.expires_at == frozen.now() + timedelta(minutes=10)  # the event's offer length
    assert fresh(WaitlistEntry, entry.id).status == WaitlistStatus.OFFERED
    assert [h.reason for h in offer.history] == ["waiting list offer"]
    shown = figure(event_id, ga)
    assert (shown.sold + shown.held, shown.available, shown.waiting) == (2, 0, 0)


def test_offers_go_strictly_in_line_order(sold_out, frozen):
    event_id, ga, a, b = sold_out
    first = waitlist.join("gig", ga, 2, "first@example.test")
    second = waitlist.join("gig", ga, 1, "second@example.test")
    reserving.release(a, actor="buyer")
    assert waitlist.serve(ga) == []  # one ticket free: the head wants 2, and nobody behind it is served first
    assert figure(event_id, ga).available == 0
    reserving.release(b, actor="buyer")
    [offer] = waitlist.serve(ga)
    assert (offer.email, offer.quantity) == ("first@example.test", 2)
    assert waitlist_places.position(fresh(WaitlistEntry, second.id)) == 1
    assert first.id < second.id


def test_a_partial_offer_when_the_organizer_allows_it(ctx, frozen, make_event):
    event_id, [ga] = make_event({"name": "GA", "capacity": 1}, slug="part", waitlist_partial_offers=True)
    hold = reserving.reserve("part", {ga: 1}, "a@example.test")
    waitlist.join("part", ga, 3, "w@example.test")
    reserving.release(hold, actor="buyer")
    [offer] = waitlist.serve(ga)
    assert offer.quantity == 1 and offer.history[0].reason == "waiting list offer, 1 of the 3 asked for"


def test_an_offer_not_taken_passes_to_the_next_in_line(sold_out, frozen, run_due, run_jobs):
    _, ga, a, _ = sold_out
    waitlist.join("gig", ga, 1, "w1@example.test")
    waitlist.join("gig", ga, 1, "w2@example.test")
    reserving.release(a, actor="buyer")
    [offer] = waitlist.serve(ga)
    assert offer.email == "w1@example.test"
    frozen.advance(timedelta(minutes=10))
    run_due()
    run_jobs("default")
    assert fresh(Order, offer.id).status == OrderStatus.EXPIRED
    assert [o.email for o in offers_of("w2@example.test")] == ["w2@example.test"]


def test_the_sweep_makes_the_offers_a_lost_job_did_not(sold_out, frozen):
    _, ga, a, b = sold_out
    waitlist.join("gig", ga, 2, "w@example.test")
    frozen.advance(timedelta(minutes=15))  # nothing runs the expiry jobs
    expiry.sweep()
    [offer] = offers_of("w@example.test")
    assert offer.quantity == 2


def test_joining_is_refused_when_tickets_are_there_or_twice_or_when_the_line_is_not_open(sold_out, ctx):
    event_id, ga, a, _ = sold_out
    waitlist.join("gig", ga, 1, "w@example.test")
    with pytest.raises(waitlist.AlreadyWaiting):
        waitlist.join("gig", ga, 2, " W@example.test ")
    with pytest.raises(InvalidRequest, match="between 1 and 4"):
        waitlist.join("gig", ga, 5, "x@example.test")
    waitlist.set_state(_tt(ga), "paused")
    with pytest.raises(Conflict, match="is paused"):
        waitlist.join("gig", ga, 1, "y@example.test")
    waitlist.set_state(_tt(ga), "closed")
    reserving.release(a, actor="buyer")
    with pytest.raises(Conflict, match="1 GA tickets are available right now"):
        waitlist.set_state(_tt(ga), "open") or waitlist.join("gig", ga, 1, "z@example.test")


def _tt(ga):
    return db.session.get(TicketType, ga)


def test_closing_the_line_gives_what_was_promised_back_to_the_public_and_tells_each_place(
        sold_out, frozen, run_jobs, inbox):
    event_id, ga, a, _ = sold_out
    entry = waitlist.join("gig", ga, 2, "w@example.test")
    run_jobs()  # the message with the link to the place
    reserving.release(a, actor="buyer")
    with pytest.raises(SoldOut):
        reserving.reserve("gig", {ga: 1}, "public@example.test")
    waitlist.set_state(_tt(ga), "closed")
    assert fresh(WaitlistEntry, entry.id).status == WaitlistStatus.CLOSED
    reserving.reserve("gig", {ga: 1}, "public@example.test")
    run_jobs()
    [joined, closed] = inbox.to("w@example.test")
    assert "/w/" + entry.token in text_of(joined)
    assert "closed the waiting list for GA" in text_of(closed)


def test_leaving_lets_the_next_one_be_served(sold_out, run_jobs):
    _, ga, a, _ = sold_out
    head = waitlist.join("gig", ga, 2, "head@example.test")
    waitlist.join("gig", ga, 1, "next@example.test")
    reserving.release(a, actor="buyer")
    assert waitlist.serve(ga) == []
    waitlist.leave(head.token)
    run_jobs("default")
    assert [o.quantity for o in offers_of("next@example.test")] == [1]


# --- renewing a hold -----------------------------------------------------------

def test_a_hold_is_renewed_in_its_last_minutes_up_to_the_limit(ctx, frozen, make_event):
    _, [ga] = make_event({"name": "GA", "capacity": 5}, slug="long", max_renewals=2)
    hold = reserving.reserve("long", {ga: 1}, "a@example.test")
    with pytest.raises(NotRenewable, match="last 3 minutes"):
        renewing.renew(hold, actor="buyer")
    frozen.advance(timedelta(minutes=12, seconds=30))
    renewed = renewing.renew(hold, actor="buyer")
    assert renewed.expires_at == hold.created_at + timedelta(minutes=20)
    frozen.advance(timedelta(minutes=5))
    renewing.renew(hold, actor="buyer")
    frozen.advance(timedelta(minutes=5))
    with pytest.raises(NotRenewable, match="as often as the organizer allows"):
        renewing.renew(hold, actor="buyer")
    reasons = [row.reason for row in db.session.query(OrderEvent).filter_by(order_id=hold.id).order_by(OrderEvent.id)]
    assert reasons[1].startswith("hold renewed until") and reasons[2].endswith("(2 of 2)")
    frozen.advance(timedelta(minutes=3))
    with pytest.raises(HoldExpired):
        renewing.renew(hold, actor="buyer")


def test_a_renewal_is_refused_while_someone_waits_or_was_just_turned_away(sold_out, frozen):
    event_id, ga, a, b = sold_out
    frozen.advance(timedelta(minutes=13))
    with pytest.raises(SoldOut):  # all reserved: this buyer is turned away
        reserving.reserve("gig", {ga: 1}, "c@example.test")
    with pytest.raises(NotRenewable, match="Other buyers are waiting"):
        renewing.renew(a, actor="buyer")
    frozen.advance(timedelta(minutes=3, seconds=1))  # the refusal is older than the renewal window
    with pytest.raises(HoldExpired):
        renewing.renew(a, actor="buyer")

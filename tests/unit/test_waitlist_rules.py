"""The waiting list's and renewals' rules on given figures and orders, without services."""
from datetime import UTC, datetime, timedelta

import pytest

from eventsite.domain import renewals, waitlist
from eventsite.domain.capacity import Availability, refusal
from eventsite.domain.errors import HoldExpired, InvalidRequest, LineFirst, NotReserved, SalesClosed
from eventsite.domain.models import Event, Order, OrderStatus, TicketType, WaitlistEntry

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def figure(capacity=10, sold=0, held=0, waiting=0, people=0) -> Availability:
    return Availability(1, capacity, sold, held, 0, None, waiting, people)


def line(*quantities):
    return [WaitlistEntry(id=i, quantity=q) for i, q in enumerate(quantities, start=1)]


# --- what is promised to the line ---------------------------------------------

def test_free_tickets_go_to_the_line_up_to_what_it_asks_for_and_the_rest_to_the_public():
    f = figure(capacity=10, sold=5, held=2, waiting=2, people=1)
    assert (f.free, f.promised, f.available) == (3, 2, 1)
    assert figure(capacity=10, sold=9, waiting=4).available == 0  # less free than the line wants: all of it


def test_the_public_is_told_people_are_waiting_while_an_offer_may_take_the_promised_tickets():
    f = figure(capacity=4, sold=2, waiting=2, people=2)
    refused = refusal({1: 1}, {1: f})
    assert isinstance(refused, LineFirst) and refused.message.startswith("2 people are on the waiting list")
    assert refusal({1: 2}, {1: f}, from_line=True) is None
    assert refusal({1: 3}, {1: f}, from_line=True) is not None


# --- who gets an offer -----------------------------------------------------------

def test_offers_go_in_line_order_and_the_head_is_not_skipped_for_a_smaller_request():
    assert [(e.id, q) for e, q in waitlist.offers(line(1, 2, 1), 4, partial=False)] == [(1, 1), (2, 2), (3, 1)]
    assert waitlist.offers(line(3, 1), 2, partial=False) == []
    assert [(e.id, q) for e, q in waitlist.offers(line(2, 2), 3, partial=False)] == [(1, 2)]


def test_partial_offers_give_the_head_what_there_is():
    assert [(e.id, q) for e, q in waitlist.offers(line(3, 1), 2, partial=True)] == [(1, 2)]
    assert waitlist.offers(line(3), 0, partial=True) == []


def test_who_may_join():
    tt = TicketType(name="GA", per_order_limit=4, waitlist="open", sales_end=AT + timedelta(days=1))
    assert waitlist.join_refusal(tt, figure(sold=10), 2, AT) is None
    assert isinstance(waitlist.join_refusal(tt, figure(sold=10), 5, AT), InvalidRequest)
    assert isinstance(waitlist.join_refusal(tt, figure(sold=10), True, AT), InvalidRequest)
    assert "reserve them instead" in waitlist.join_refusal(tt, figure(sold=8), 2, AT).message
    assert waitlist.join_refusal(tt, figure(sold=8), 3, AT) is None  # too few for what is asked
    assert isinstance(waitlist.join_refusal(tt, figure(sold=10), 1, AT + timedelta(days=1)), SalesClosed)
    tt.waitlist = "paused"
    assert "is paused" in waitlist.join_refusal(tt, figure(sold=10), 1, AT).message


# --- renewing -------------------------------------------------------------------------

def hold(left=timedelta(minutes=2), renewed=0, status=OrderStatus.RESERVED, max_renewals=10):
    return Order(status=status, expires_at=AT + left, renewals=renewed, payment_pending=False,
                 event=Event(max_renewals=max_renewals, renewal_minutes=5))


@pytest.mark.parametrize(("order", "waiting", "expected"), [
    (hold(), False, None),
    (hold(left=timedelta(minutes=3, seconds=1)), False, "last 3 minutes"),
    (hold(renewed=10), False, "as often as the organizer allows"),
    (hold(), True, "Other buyers are waiting"),
    (hold(left=timedelta(0)), False, HoldExpired),
    (hold(status=OrderStatus.PAYMENT_PROCESSING), False, NotReserved),
])
def test_when_a_hold_may_be_renewed(order, waiting, expected):
    refused = renewals.refusal(order, AT, others_waiting=waiting)
    if expected is None:
        assert refused is None and renewals.renewed_until(order) == order.expires_at + timedelta(minutes=5)
    elif isinstance(expected, str):
        assert isinstance(refused, renewals.NotRenewable) and expected in refused.message
    else:
        assert isinstance(refused, expected)


def test_the_page_offers_more_time_only_in_the_window_and_while_renewals_are_left():
    assert renewals.offer_window(AT, hold())
    assert not renewals.offer_window(AT, hold(left=timedelta(minutes=4)))
    assert not renewals.offer_window(AT, hold(renewed=10))
    assert not renewals.offer_window(AT, hold(left=timedelta(0)))

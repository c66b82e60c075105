"""The waiting list's and renewals' rules on given figures and orders, without services."""
from datetime import UTC, datetime, timedelta

import pytest

from eventsite.domain import renewals, waitlist
from eventsite.domain.capacity import Availability, refusal
from eventsite.domain.errors import HoldExpired, InvalidRequest, LineFirst, NotReserved, SalesClosed
from eventsite.domain.models import Event, Order, OrderStatus, TicketType, WaitingRoom, WaitlistEntry, WaitlistStatus

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


def test_a_place_asked_for_from_a_waiting_room_may_be_deferred_while_tickets_are_available():
    tt = TicketType(name="GA", per_order_limit=4, waitlist="open", sales_end=AT + timedelta(days=1))
    assert waitlist.join_refusal(tt, figure(sold=0), 2, AT, deferred=True) is None  # 10 available: the room's
    assert "reserve them instead" in waitlist.join_refusal(tt, figure(sold=0), 2, AT).message
    # Every other refusal still applies.
    assert isinstance(waitlist.join_refusal(tt, figure(), 5, AT, deferred=True), InvalidRequest)
    assert isinstance(waitlist.join_refusal(tt, figure(), 1, AT + timedelta(days=1), deferred=True), SalesClosed)
    tt.waitlist = "paused"
    assert "is paused" in waitlist.join_refusal(tt, figure(), 1, AT, deferred=True).message


# --- deferred places when the waiting room closes -----------------------------------------

def deferred(*places):
    """Deferred entries (id, ticket type id, email), given out of order."""
    return [WaitlistEntry(id=i, ticket_type_id=tt, email=email, status=WaitlistStatus.DEFERRED)
            for i, tt, email in places]


def outcome(changes):
    return [(entry.id, status.value) for entry, status in changes]


def test_a_sell_out_puts_deferred_places_in_line_in_the_order_they_asked_one_per_address():
    entries = deferred((4, 1, "c@x.test"), (2, 1, "a@x.test"), (3, 1, "b@x.test"), (5, 1, "a@x.test"),
                       (6, 2, "a@x.test"))
    changes = waitlist.activation(entries, [(1, "b@x.test")], waitlist.SOLD_OUT)
    # b@ already waits for type 1 (its older place counts); a@'s second place for type 1 is closed, not
    # its place for type 2.
    assert outcome(changes) == [(2, "waiting"), (3, "closed"), (4, "waiting"), (5, "closed"), (6, "waiting")]


def test_sales_ending_ends_every_deferred_place_and_a_closing_is_one_of_two_reasons():
    changes = waitlist.activation(deferred((1, 1, "a@x.test"), (2, 1, "b@x.test")), [], waitlist.SALES_ENDED)
    assert outcome(changes) == [(1, "closed"), (2, "closed")]
    assert waitlist.activation([], [], waitlist.SOLD_OUT) == []
    with pytest.raises(ValueError):
        waitlist.activation(deferred((1, 1, "a@x.test")), [], "paused")


def closed_entry(created_at, *, room_closed=AT, reason="sold_out", line="open"):
    """A closed place of an event whose room opens 30 minutes before its on-sale at AT + 30 min."""
    tt = TicketType(name="GA", waitlist=line, sales_start=AT + timedelta(minutes=30))
    room = WaitingRoom(enabled=True, opens_minutes_before=30, closed_at=room_closed, closed_reason=reason)
    event = Event(ticket_types=[tt], waiting_room=room)
    return WaitlistEntry(event=event, ticket_type=tt, created_at=created_at, status=WaitlistStatus.CLOSED)


@pytest.mark.parametrize(("created", "kwargs", "expected"), [
    (AT - timedelta(minutes=1), {"room_closed": AT + timedelta(hours=1)}, "organizer"),  # before the room opened
    (AT + timedelta(minutes=5), {"room_closed": AT + timedelta(hours=1)}, "already_waiting"),
    (AT + timedelta(minutes=5), {"room_closed": AT + timedelta(hours=1), "reason": "sales_ended"}, "sales_ended"),
    (AT + timedelta(minutes=5), {"room_closed": AT + timedelta(hours=1), "line": "closed"}, "organizer"),
    (AT + timedelta(minutes=5), {"room_closed": None}, "organizer"),  # the room still open: the organizer closed it
    (AT + timedelta(hours=2), {"room_closed": AT + timedelta(hours=1), "reason": "sales_ended"}, "organizer"),
])
def test_why_a_closed_place_ended(created, kwargs, expected):
    assert waitlist.why_closed(closed_entry(created, **kwargs)) == expected


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

"""Reserving, releasing and expiring holds through the domain functions (real PostgreSQL)."""
from datetime import timedelta

import pytest
from invariants import assert_never_oversold, row_counts
from races import before_statement

from eventsite.domain import holds
from eventsite.domain.errors import AllReserved, InvalidRequest, NotFound, SalesClosed, SoldOut
from eventsite.domain.models import Event, OrderStatus
from eventsite.domain.state_machine import IllegalTransition
from eventsite.infra.db import db
from eventsite.readmodels import availability, lookups
from eventsite.services import catalog, expiry, paying, reserving


@pytest.fixture
def show(ctx, make_event, frozen):
    """An event with a 3-ticket GA type (limit 2) and a 2-ticket VIP type."""
    event_id, (ga, vip) = make_event({"name": "GA", "capacity": 3, "per_order_limit": 2},
                                     {"name": "VIP", "capacity": 2, "per_order_limit": 2})
    return db.session.get(Event, event_id), ga, vip


def test_reserve_places_a_hold_that_the_holder_and_others_see(show, frozen):
    event, ga, vip = show
    order = reserving.reserve(event.slug, {ga: 2, vip: 1}, "ann@example.test")

    assert order.status == OrderStatus.RESERVED
    assert order.expires_at == frozen.now() + timedelta(minutes=15)
    assert len(order.token) >= 32
    mine = availability.figures(event.id, viewer_token=order.token)
    assert (mine[ga].held_by_you, mine[ga].held_by_others, mine[ga].available) == (2, 0, 1)
    theirs = availability.figures(event.id, viewer_token="someone-else")
    assert (theirs[ga].held_by_you, theirs[ga].held_by_others) == (0, 2)
    assert theirs[vip].next_release_at == order.expires_at
    assert [(e.from_status, e.to_status) for e in order.history] == [(None, "reserved")]


def test_hold_counts_until_one_microsecond_before_expiry_and_not_at_it(show, frozen):
    event, ga, _ = show
    order = reserving.reserve(event.slug, {ga: 1}, "ann@example.test")
    expires_at = order.expires_at

    assert availability.figures(event.id, at=expires_at - timedelta(microseconds=1))[ga].held == 1
    assert availability.figures(event.id, at=expires_at)[ga].held == 0
    assert availability.figures(event.id, at=expires_at)[ga].available == 3
    assert holds.holds_at(order, expires_at - timedelta(microseconds=1))
    assert not holds.holds_at(order, expires_at)
    # No job ran: the order still says reserved, yet it no longer counts.
    db.session.expire_all()
    assert order.status == OrderStatus.RESERVED


def test_a_lapsed_hold_frees_its_tickets_for_the_next_buyer(show, frozen):
    event, ga, _ = show
    reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    reserving.reserve(event.slug, {ga: 1}, "bob@example.test")
    with pytest.raises(AllReserved) as refused:
        reserving.reserve(event.slug, {ga: 1}, "cy@example.test")
    assert refused.value.retry_at == frozen.now() + timedelta(minutes=15)

    frozen.advance(timedelta(minutes=15))
    order = reserving.reserve(event.slug, {ga: 2}, "cy@example.test")
    assert order.status == OrderStatus.RESERVED
    assert_never_oversold(event.id)


def test_sold_out_when_confirmed_sales_leave_too_few(show, frozen):
    event, ga, _ = show
    first = reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    assert paying.confirm_payment(first.id, reason="paid", actor="test")
    with pytest.raises(SoldOut, match="Only 1 left") as refused:
        reserving.reserve(event.slug, {ga: 2}, "bob@example.test")
    assert not isinstance(refused.value, AllReserved)


def test_release_gives_the_tickets_back_at_once(show):
    event, ga, _ = show
    order = reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    reserving.release(order, actor="buyer")
    assert availability.figures(event.id)[ga].available == 3
    assert [e.to_status for e in order.history] == ["reserved", "cancelled"]
    reserving.release(order, actor="buyer")  # idempotent: no second audit row
    assert len(order.history) == 2


def test_release_of_an_expired_hold_is_refused(show, frozen):
    event, ga, _ = show
    order = reserving.reserve(event.slug, {ga: 1}, "ann@example.test")
    frozen.advance(timedelta(minutes=16))
    assert expiry.expire_if_lapsed(order.id)
    with pytest.raises(IllegalTransition, match="expired cannot become cancelled"):
        reserving.release(order, actor="buyer")


def test_expire_if_lapsed_leaves_live_holds_alone(show, frozen):
    event, ga, _ = show
    order = reserving.reserve(event.slug, {ga: 1}, "ann@example.test")
    frozen.advance(timedelta(minutes=14))
    assert not expiry.expire_if_lapsed(order.id)
    frozen.advance(timedelta(minutes=1))
    assert expiry.expire_if_lapsed(order.id)
    assert not expiry.expire_if_lapsed(order.id)  # idempotent
    assert [e.to_status for e in order.history] == ["reserved", "expired"]


def test_late_payment_is_confirmed_while_capacity_remains(show, frozen):
    event, ga, _ = show
    order = reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    frozen.advance(timedelta(minutes=20))
    expiry.expire_if_lapsed(order.id)
    assert paying.confirm_payment(order.id, reason="checkout.session.completed", actor="stripe")
    assert availability.figures(event.id)[ga].sold == 2
    assert "late payment" in order.history[-1].reason
    assert_never_oversold(event.id)


def test_late_payment_without_capacity_is_not_confirmed(show, frozen):
    event, ga, _ = show
    late = reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    frozen.advance(timedelta(minutes=20))
    reserving.reserve(event.slug, {ga: 2}, "bob@example.test")  # takes what the lapsed hold left
    assert not paying.confirm_payment(late.id, reason="checkout.session.completed", actor="stripe")
    assert late.status == OrderStatus.EXPIRED
    assert availability.figures(event.id)[ga].sold == 0
    assert_never_oversold(event.id)


def test_confirming_twice_changes_nothing_the_second_time(show):
    event, ga, _ = show
    order = reserving.reserve(event.slug, {ga: 1}, "ann@example.test")
    assert paying.confirm_payment(order.id, reason="paid", actor="stripe")
    assert paying.confirm_payment(order.id, reason="paid", actor="stripe")
    assert availability.figures(event.id)[ga].sold == 1
    assert [e.to_status for e in order.history] == ["reserved", "confirmed"]


@pytest.mark.parametrize(
    ("quantities", "error", "message"),
    [
        (lambda ga, vip: {ga: 0}, InvalidRequest, "at least one"),
        (lambda ga, vip: {ga: -1}, InvalidRequest, "whole number"),
        (lambda ga, vip: {ga: 3}, InvalidRequest, "At most 2 GA"),
        (lambda ga, vip: {ga: "1"}, InvalidRequest, "whole number"),
        (lambda ga, vip: {}, InvalidRequest, "at least one"),
        (lambda ga, vip: {999_999: 1}, InvalidRequest, "not part of this event"),
    ],
)
def test_bad_quantities_are_refused_and_change_nothing(show, quantities, error, message):
    event, ga, vip = show
    with pytest.raises(error, match=message) as refused:
        reserving.reserve(event.slug, quantities(ga, vip), "ann@example.test")
    assert refused.value.http_status == 422
    assert row_counts() == (0, 0, 0)


def test_more_than_available_is_refused_and_changes_nothing(show):
    event, _, vip = show
    reserving.reserve(event.slug, {vip: 2}, "ann@example.test")
    before = row_counts()
    with pytest.raises(AllReserved):
        reserving.reserve(event.slug, {vip: 1}, "bob@example.test")
    assert row_counts() == before


def test_a_ticket_type_of_another_event_is_refused(show, make_event):
    event, ga, _ = show
    _, (foreign,) = make_event({"name": "Other", "capacity": 5}, slug="other")
    with pytest.raises(InvalidRequest, match="not part of this event"):
        reserving.reserve(event.slug, {ga: 1, foreign: 1}, "ann@example.test")
    assert row_counts() == (0, 0, 0)


def test_closed_sales_window_is_refused(ctx, make_event, frozen):
    event_id, (early, late) = make_event(
        {"name": "Early bird", "capacity": 5, "sales_end": frozen.now()},
        {"name": "Door", "capacity": 5, "sales_start": frozen.now() + timedelta(hours=1)},
    )
    event = db.session.get(Event, event_id)
    for tt in (early, late):
        with pytest.raises(SalesClosed, match="closed"):
            reserving.reserve(event.slug, {tt: 1}, "ann@example.test")
    assert row_counts() == (0, 0, 0)
    frozen.advance(timedelta(hours=1))
    assert reserving.reserve(event.slug, {late: 1}, "ann@example.test").status == OrderStatus.RESERVED


@pytest.mark.parametrize("email", ["", "no-at-sign", "x@" + "y" * 260])
def test_invalid_email_is_refused(show, email):
    event, ga, _ = show
    with pytest.raises(InvalidRequest, match="email"):
        reserving.reserve(event.slug, {ga: 1}, email)
    assert row_counts() == (0, 0, 0)


def test_unknown_and_unpublished_events_are_not_found(ctx, make_event):
    make_event(slug="draft", published=False)
    for slug in ("draft", "no-such-event"):
        with pytest.raises(NotFound):
            lookups.published_event(slug)
    with pytest.raises(NotFound):
        lookups.order_by_token("not-a-token")


def test_a_currency_change_racing_a_reservation_never_mislabels_its_order(app, make_event):
    """The organizer's currency change commits after the buyer read the event and before
    the order is written: the order is in the new currency at the new prices, never mixed."""
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5, "price": 2550})  # 25.50 EUR

    def organizer_changes_the_currency():
        with app.app_context():
            event = db.session.get(Event, event_id)
            catalog.update_event(event, {**{f: getattr(event, f) for f in catalog.EVENT_FIELDS}, "currency": "KWD"})

    def writing_the_order(sql: str) -> bool:
        return sql.startswith("INSERT INTO orders")

    with app.app_context():
        with before_statement(db.engine, writing_the_order, organizer_changes_the_currency) as raced:
            order = reserving.reserve("rush", {ga: 1}, "buyer@example.test")
        assert raced and (order.currency, order.total) == ("KWD", 25500)  # 25.500 KWD, as now priced
        db.session.expire_all()
        assert db.session.get(Event, event_id).currency == "KWD"

"""The order state machine: allowed moves, refusals, audit rows, idempotency, batch moves."""
from datetime import timedelta
from itertools import product

import pytest
from sqlalchemy import select

from eventsite.domain import state_machine
from eventsite.domain.models import Event, Order, OrderEvent, OrderStatus, TicketType
from eventsite.domain.state_machine import ALLOWED, IllegalTransition
from eventsite.infra.db import db
from eventsite.services import reserving

S = OrderStatus
EXPECTED_MOVES = {
    (S.RESERVED, S.PAYMENT_PROCESSING), (S.RESERVED, S.CONFIRMED), (S.RESERVED, S.EXPIRED),
    (S.RESERVED, S.CANCELLED), (S.PAYMENT_PROCESSING, S.CONFIRMED), (S.PAYMENT_PROCESSING, S.EXPIRED),
    (S.PAYMENT_PROCESSING, S.CANCELLED), (S.EXPIRED, S.CONFIRMED), (S.CANCELLED, S.CONFIRMED),
    (S.EXPIRED, S.REFUNDED), (S.CANCELLED, S.REFUNDED), (S.CONFIRMED, S.REFUNDED),
}


def test_the_table_is_exactly_the_designed_one():
    moves = {(frm, to) for frm, tos in ALLOWED.items() if frm is not None for to in tos}
    assert moves == EXPECTED_MOVES
    assert ALLOWED[None] == {S.RESERVED}


@pytest.fixture
def order_in(ctx, make_event):
    """Factory: a committed one-ticket order put into ``status`` through allowed moves."""
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5})
    path = {S.RESERVED: [], S.PAYMENT_PROCESSING: [S.PAYMENT_PROCESSING], S.CONFIRMED: [S.CONFIRMED],
            S.EXPIRED: [S.EXPIRED], S.CANCELLED: [S.CANCELLED], S.REFUNDED: [S.CONFIRMED, S.REFUNDED]}

    made = iter(range(1, 1000))

    def make(status: OrderStatus) -> Order:
        email = f"buyer{next(made)}@example.test"  # one live hold per email and event
        order = reserving.reserve(db.session.get(Event, event_id).slug, {ga: 2}, email)
        for step in path[status]:
            state_machine.transition(order, step, reason="setup", actor="test")
        db.session.commit()
        return order

    make.ticket_type_id = ga
    return make


@pytest.mark.parametrize(("frm", "to"), [
    (frm, to) for frm, to in product(S, S) if frm != to and (frm, to) not in EXPECTED_MOVES
])
def test_every_other_move_is_refused_and_changes_nothing(order_in, frm, to):
    order = order_in(frm)
    history_before = len(order.history)
    sold_before = db.session.get(TicketType, order_in.ticket_type_id).sold

    with pytest.raises(IllegalTransition, match=f"cannot become {to.value.replace('_', ' ')}"):
        state_machine.transition(order, to, reason="try", actor="test")

    db.session.commit()
    assert order.status == frm
    assert len(order.history) == history_before
    assert db.session.get(TicketType, order_in.ticket_type_id).sold == sold_before


@pytest.mark.parametrize(("frm", "to"), sorted(EXPECTED_MOVES))
def test_each_allowed_move_writes_one_audit_row(order_in, frm, to):
    order = order_in(frm)
    assert state_machine.transition(order, to, reason="because", actor="someone")
    db.session.commit()
    last = order.history[-1]
    assert (last.from_status, last.to_status, last.reason, last.actor) == (frm.value, to.value, "because", "someone")
    assert not state_machine.transition(order, to, reason="again", actor="someone")  # idempotent
    db.session.commit()
    assert order.history[-1].id == last.id


def test_sold_counter_follows_confirm_and_refund(order_in):
    order = order_in(S.RESERVED)
    tt = db.session.get(TicketType, order_in.ticket_type_id)
    state_machine.transition(order, S.CONFIRMED, reason="paid", actor="stripe")
    db.session.commit()
    assert tt.sold == 2
    state_machine.transition(order, S.REFUNDED, reason="organizer refund", actor="org")
    db.session.commit()
    assert tt.sold == 0


def test_bulk_transition_expires_only_lapsed_holds_with_audit_rows(order_in, frozen):
    lapsed = [order_in(S.RESERVED), order_in(S.PAYMENT_PROCESSING)]
    frozen.advance(timedelta(minutes=20))
    fresh = order_in(S.RESERVED)
    done = order_in(S.CONFIRMED)

    moved = state_machine.bulk_transition(db.session,
        state_machine.candidate_ids(Order.expires_at <= frozen.now(), limit=100), S.EXPIRED,
        from_statuses=(S.RESERVED, S.PAYMENT_PROCESSING), reason="hold lapsed", actor="sweep")
    db.session.commit()
    db.session.expire_all()

    assert sorted(moved) == sorted(o.id for o in lapsed)
    assert [o.status for o in lapsed] == [S.EXPIRED, S.EXPIRED]
    assert (fresh.status, done.status) == (S.RESERVED, S.CONFIRMED)
    audit = db.session.scalars(select(OrderEvent).where(OrderEvent.reason == "hold lapsed")).all()
    assert sorted((e.order_id, e.from_status) for e in audit) == sorted(
        [(lapsed[0].id, "reserved"), (lapsed[1].id, "payment_processing")])


def test_bulk_transition_refuses_moves_outside_the_table(ctx):
    with pytest.raises(ValueError, match="not an allowed transition"):
        state_machine.bulk_transition(db.session, state_machine.candidate_ids(limit=1), S.CANCELLED,
                                      from_statuses=(S.EXPIRED,), reason="x")
    with pytest.raises(ValueError, match="use transition"):
        state_machine.bulk_transition(db.session, state_machine.candidate_ids(limit=1), S.CONFIRMED,
                                      from_statuses=(S.RESERVED,), reason="x")

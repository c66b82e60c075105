"""Random reserve / release / expire / confirm / refund / clock moves against a simple model.

After every step the database's availability must equal the model's and
sold + held <= capacity must hold.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from testenv import T0, truncate_all

from eventsite.domain import state_machine
from eventsite.domain.clock import clock
from eventsite.domain.errors import HoldExpired, IllegalTransition, InvalidRequest, SoldOut
from eventsite.domain.models import Event, Order, OrderStatus, Organizer, TicketType
from eventsite.infra.db import db
from eventsite.infra.transactions import write_transaction
from eventsite.readmodels import availability
from eventsite.services import expiry, paying, reserving

S = OrderStatus
HOLD = timedelta(minutes=10)
CAPACITY = {"A": 4, "B": 3}


@dataclass
class ModelOrder:
    id: int
    items: dict[str, int]
    status: OrderStatus
    expires_at: datetime


class ShopModel(RuleBasedStateMachine):
    def __init__(self, app):
        super().__init__()
        self.ctx = app.app_context()
        self.ctx.push()
        truncate_all()
        clock.freeze(T0)
        event = Event(organizer=Organizer(email="o@example.test", password_hash="!"), slug="model",
                      title="Model", starts_at=T0 + timedelta(days=9), published=True, hold_minutes=10,
                      ticket_types=[TicketType(name=n, price=500, capacity=c, per_order_limit=3)
                                    for n, c in CAPACITY.items()])
        db.session.add(event)
        db.session.commit()
        self.event_id = event.id
        self.type_ids = {tt.name: tt.id for tt in event.ticket_types}
        self.orders: list[ModelOrder] = []

    def teardown(self):
        db.session.remove()
        self.ctx.pop()
        clock.unfreeze()

    # --- the model's view of availability ------------------------------------
    def _holds(self, o: ModelOrder) -> bool:
        return o.status in (S.RESERVED, S.PAYMENT_PROCESSING) and o.expires_at > clock.now()

    def _available(self, name: str) -> int:
        sold = sum(o.items.get(name, 0) for o in self.orders if o.status == S.CONFIRMED)
        held = sum(o.items.get(name, 0) for o in self.orders if self._holds(o))
        return max(0, CAPACITY[name] - sold - held)

    def _enough(self, items: dict[str, int]) -> bool:
        return all(self._available(n) >= q for n, q in items.items())

    def _db_order(self, o: ModelOrder) -> Order:
        db.session.expire_all()
        return db.session.get(Order, o.id)

    # --- rules ----------------------------------------------------------------
    @rule(a=st.integers(0, 4), b=st.integers(0, 3))
    def reserve(self, a, b):
        wish = {n: q for n, q in (("A", a), ("B", b)) if q}
        event = db.session.get(Event, self.event_id)
        try:
            # A buyer of its own each time: one email may have one live hold per event.
            order = reserving.reserve(event.slug, {self.type_ids[n]: q for n, q in wish.items()},
                                      f"m{len(self.orders)}@example.test")
        except InvalidRequest:
            assert not wish or max(wish.values()) > 3
            return
        except SoldOut:
            assert not self._enough(wish)
            return
        assert wish and max(wish.values()) <= 3 and self._enough(wish)
        self.orders.append(ModelOrder(order.id, wish, S.RESERVED, clock.now() + HOLD))

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def start_payment(self, data):
        o = data.draw(st.sampled_from(self.orders))
        with write_transaction():
            order = self._db_order(o)
            if o.status in (S.RESERVED, S.PAYMENT_PROCESSING):
                state_machine.transition(order, S.PAYMENT_PROCESSING, reason="session created", actor="model")
                o.status = S.PAYMENT_PROCESSING
            else:
                try:
                    state_machine.transition(order, S.PAYMENT_PROCESSING, reason="session created", actor="model")
                    raise AssertionError("moved out of a final status")
                except IllegalTransition:
                    pass

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def release(self, data):
        o = data.draw(st.sampled_from(self.orders))
        try:
            reserving.release(self._db_order(o), actor="model")
        except HoldExpired:  # a lapsed hold is expired, never released; nothing changes
            assert o.status in (S.RESERVED, S.PAYMENT_PROCESSING) and not self._holds(o)
            return
        except IllegalTransition:
            assert o.status not in (S.RESERVED, S.PAYMENT_PROCESSING, S.CANCELLED)
            return
        assert o.status in (S.RESERVED, S.PAYMENT_PROCESSING, S.CANCELLED)
        o.status = S.CANCELLED

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def expire(self, data):
        o = data.draw(st.sampled_from(self.orders))
        lapsed = o.status in (S.RESERVED, S.PAYMENT_PROCESSING) and not self._holds(o)
        assert expiry.expire_if_lapsed(o.id) == lapsed
        if lapsed:
            o.status = S.EXPIRED

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def confirm(self, data):
        o = data.draw(st.sampled_from(self.orders))
        if o.status == S.CONFIRMED:
            expected = True
        elif o.status == S.REFUNDED:
            expected = False
        else:
            expected = self._holds(o) or self._enough(o.items)
        assert paying.confirm_payment(o.id, reason="paid", actor="model") == expected
        if expected:
            o.status = S.CONFIRMED
        elif o.status in (S.RESERVED, S.PAYMENT_PROCESSING):
            o.status = S.EXPIRED

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def refund(self, data):
        o = data.draw(st.sampled_from(self.orders))
        allowed = o.status in (S.CONFIRMED, S.EXPIRED, S.CANCELLED, S.REFUNDED)
        try:
            with write_transaction():
                state_machine.transition(self._db_order(o), S.REFUNDED, reason="refund", actor="model")
        except IllegalTransition:
            assert not allowed
            return
        assert allowed
        o.status = S.REFUNDED

    # Steps that land exactly on, just before and just after hold expiries.
    @rule(step=st.sampled_from([HOLD, HOLD - timedelta(microseconds=1), timedelta(microseconds=1),
                                timedelta(minutes=3), timedelta(minutes=7), timedelta(minutes=11)]))
    def move_clock(self, step):
        clock.advance(step)

    @invariant()
    def availability_matches_the_model(self):
        db.session.commit()
        figures = availability.figures(self.event_id)
        for name, tt_id in self.type_ids.items():
            f = figures[tt_id]
            assert f.available == self._available(name), (name, f)
            assert f.sold + f.held <= f.capacity


def test_availability_always_matches_the_model(app):
    run_state_machine_as_test(
        lambda: ShopModel(app),
        settings=settings(max_examples=40, stateful_step_count=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )

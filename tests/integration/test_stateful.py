"""Random reserve / release / expire / confirm / refund / clock moves, and the waiting list
(join, leave, serve, offers lapsing, paying offers, renewing holds), against a simple model.

After every step the database's availability must equal the model's, sold + held <= capacity
must hold, and every entry of the line must have the model's status with at most one offer.
Whenever a step makes offers they must be exactly the model's: in line order, the head never
passed over (unless the event allows partial offers), nobody offered twice; and a public
reservation must never take a ticket promised to the line.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select
from testenv import T0, truncate_all
from waitlist_support import assert_not_oversold, assert_offers_are_a_prefix, entry_statuses, taken

from eventsite.domain import state_machine
from eventsite.domain.clock import clock
from eventsite.domain.errors import (
    AllReserved,
    Conflict,
    HoldExpired,
    IllegalTransition,
    InvalidRequest,
    LineFirst,
    NotReserved,
    SoldOut,
)
from eventsite.domain.models import Event, Order, OrderStatus, Organizer, TicketType, WaitlistStatus
from eventsite.domain.renewals import WINDOW, NotRenewable
from eventsite.infra.db import db
from eventsite.infra.transactions import write_transaction
from eventsite.readmodels import availability, availability_cache
from eventsite.services import expiry, paying, renewing, reserving, waitlist

S = OrderStatus
W = WaitlistStatus
HOLD = timedelta(minutes=10)
OFFER = timedelta(minutes=7)  # unlike HOLD, so an offer's own length is checked
RENEWAL = timedelta(minutes=5)
MAX_RENEWALS = 1
CAPACITY = {"A": 4, "B": 3}
LIMIT = 3  # per order, and per place in line


@dataclass
class ModelOrder:
    id: int
    items: dict[str, int]
    status: OrderStatus
    expires_at: datetime
    entry: int | None = None  # the waiting-list entry this order was offered to
    renewals: int = 0


@dataclass
class ModelEntry:
    id: int
    token: str
    name: str
    email: str
    quantity: int
    status: WaitlistStatus = W.WAITING


@dataclass
class Line:
    """The model's waiting list: every entry ever made, in id (= line) order."""
    entries: list[ModelEntry] = field(default_factory=list)

    def waiting(self, name: str) -> list[ModelEntry]:
        return [e for e in self.entries if e.name == name and e.status == W.WAITING]


class ShopModel(RuleBasedStateMachine):
    def __init__(self, app, partial_offers: bool):
        super().__init__()
        self.ctx = app.app_context()
        self.ctx.push()
        truncate_all()
        availability_cache.clear()  # ids restart; and nobody was turned away yet
        clock.freeze(T0)
        event = Event(organizer=Organizer(email="o@example.test", password_hash="!"), slug="model",
                      title="Model", starts_at=T0 + timedelta(days=9), published=True, hold_minutes=10,
                      offer_minutes=OFFER.seconds // 60, renewal_minutes=RENEWAL.seconds // 60,
                      max_renewals=MAX_RENEWALS, waitlist_partial_offers=partial_offers,
                      ticket_types=[TicketType(name=n, price=500, capacity=c, per_order_limit=LIMIT)
                                    for n, c in CAPACITY.items()])
        db.session.add(event)
        db.session.commit()
        self.partial = partial_offers
        self.event_id = event.id
        self.type_ids = {tt.name: tt.id for tt in event.ticket_types}
        self.names = sorted(self.type_ids, key=self.type_ids.get)  # the order refusals are decided in
        self.orders: list[ModelOrder] = []
        self.line = Line()
        self.turned_away: dict[str, datetime] = {}  # last "all reserved" refusal per ticket type

    def teardown(self):
        db.session.remove()
        self.ctx.pop()
        clock.unfreeze()

    # --- the model's view of availability ------------------------------------
    def _holds(self, o: ModelOrder) -> bool:
        return o.status in (S.RESERVED, S.PAYMENT_PROCESSING) and o.expires_at > clock.now()

    def _sold(self, name: str) -> int:
        return sum(o.items.get(name, 0) for o in self.orders if o.status == S.CONFIRMED)

    def _held(self, name: str) -> int:
        return sum(o.items.get(name, 0) for o in self.orders if self._holds(o))

    def _free(self, name: str) -> int:
        return max(0, CAPACITY[name] - self._sold(name) - self._held(name))

    def _waiting(self, name: str) -> int:
        return sum(e.quantity for e in self.line.waiting(name))

    def _available(self, name: str) -> int:
        """What the public may take: free tickets beyond what the line waits for."""
        return max(0, self._free(name) - self._waiting(name))

    def _enough(self, items: dict[str, int]) -> bool:
        return all(self._available(n) >= q for n, q in items.items())

    def _refused_with(self, wish: dict[str, int]) -> tuple[type, str]:
        """The refusal a reservation of ``wish`` gets, and the ticket type that decides it."""
        name = next(n for n in self.names if n in wish and self._available(n) < wish[n])
        if self._waiting(name):
            return LineFirst, name
        if CAPACITY[name] - self._sold(name) >= wish[name] and self._held(name):
            return AllReserved, name
        return SoldOut, name

    def _db_order(self, o: ModelOrder) -> Order:
        db.session.expire_all()
        return db.session.get(Order, o.id)

    def _offers_due(self, name: str) -> list[tuple[ModelEntry, int]]:
        """Who the line of ``name`` is offered what, now: the head first, and nobody behind a
        head that wants more than is free (unless partial offers are allowed)."""
        free, due = self._free(name), []
        for entry in self.line.waiting(name):
            if free == 0 or (entry.quantity > free and not self.partial):
                break
            due.append((entry, min(entry.quantity, free)))
            free -= due[-1][1]
        return due

    def _take_offers(self, names) -> None:
        """The offers the database made since the last look must be exactly the ones due."""
        due = [(e.id, q) for name in names for e, q in self._offers_due(name)]
        known = {o.id for o in self.orders}
        db.session.expire_all()
        made = [o for o in db.session.scalars(select(Order).where(Order.waitlist_entry_id.is_not(None))
                                              .order_by(Order.waitlist_entry_id)) if o.id not in known]
        assert sorted((o.waitlist_entry_id, o.quantity) for o in made) == sorted(due), (made, due)
        entries = {e.id: e for e in self.line.entries}
        for order in made:
            entry = entries[order.waitlist_entry_id]
            assert entry.status == W.WAITING  # nobody is offered twice
            entry.status = W.OFFERED
            assert order.expires_at == clock.now() + OFFER and order.status == S.RESERVED
            self.orders.append(ModelOrder(order.id, {entry.name: order.quantity}, S.RESERVED, order.expires_at,
                                          entry=entry.id))

    # --- rules: buying ----------------------------------------------------------
    @rule(a=st.integers(0, 4), b=st.integers(0, 3))
    def reserve(self, a, b):
        self._reserve({n: q for n, q in (("A", a), ("B", b)) if q})

    @rule(name=st.sampled_from(sorted(CAPACITY)), people=st.lists(st.tuples(st.integers(1, LIMIT), st.booleans()),
                                                                max_size=3))
    def sell_out(self, name, people):
        """Public buyers take what the public may of one ticket type; the next one is refused, and
        the people after that join its line (so lines form often)."""
        while self._available(name):
            self._reserve({name: min(LIMIT, self._available(name))})
        self._reserve({name: 1})
        for quantity, shout in people:
            self._join(name, quantity, f"w{len(self.line.entries)}@example.test", shout)

    def _reserve(self, wish: dict[str, int]) -> None:
        event = db.session.get(Event, self.event_id)
        try:
            # A buyer of its own each time: one email may have one live hold per event.
            order = reserving.reserve(event.slug, {self.type_ids[n]: q for n, q in wish.items()},
                                      f"m{len(self.orders)}@example.test")
        except InvalidRequest:
            assert not wish or max(wish.values()) > LIMIT
            return
        except SoldOut as refused:
            assert not self._enough(wish)
            kind, name = self._refused_with(wish)
            assert type(refused) is kind, (refused, kind, name)
            if kind is AllReserved:  # holders of it may not renew for a while
                self.turned_away[name] = clock.now()
            return
        assert wish and max(wish.values()) <= LIMIT and self._enough(wish)
        # The public never gets a ticket the line waits for.
        assert all(self._free(n) - self._waiting(n) >= q for n, q in wish.items())
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

    def _pay(self, o: ModelOrder) -> None:
        if o.status == S.CONFIRMED:
            expected = True
        elif o.status == S.REFUNDED:
            expected = False
        else:  # a late payment must not take what the line waits for either
            expected = self._holds(o) or self._enough(o.items)
        assert paying.confirm_payment(o.id, reason="paid", actor="model") == expected
        if expected:
            o.status = S.CONFIRMED
        elif o.status in (S.RESERVED, S.PAYMENT_PROCESSING):
            o.status = S.EXPIRED

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def confirm(self, data):
        self._pay(data.draw(st.sampled_from(self.orders)))

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

    # Steps that land exactly on, just before and just after hold and offer expiries,
    # and into the renewal window.
    @rule(step=st.sampled_from([HOLD, HOLD - timedelta(microseconds=1), timedelta(microseconds=1),
                                timedelta(minutes=3), OFFER, timedelta(minutes=11)]))
    def move_clock(self, step):
        clock.advance(step)

    # --- rules: renewing ---------------------------------------------------------
    def _renewal_refused_with(self, o: ModelOrder) -> type | None:
        now = clock.now()
        if o.status in (S.EXPIRED, S.CANCELLED) or (o.status in (S.RESERVED, S.PAYMENT_PROCESSING)
                                                     and not self._holds(o)):
            return HoldExpired  # over: nothing to renew
        if o.status != S.RESERVED:  # paying, paid or refunded
            return NotReserved
        if o.expires_at - now > WINDOW or o.renewals >= MAX_RENEWALS:
            return NotRenewable
        turned_away = any(self.turned_away.get(n, T0 - WINDOW) >= now - WINDOW for n in o.items)
        if turned_away or any(self._waiting(n) for n in o.items):  # renewing never keeps tickets from them
            return NotRenewable
        return None

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), into_window=st.booleans())
    def renew(self, data, into_window):
        """Mostly reservations (which alone may be renewed, lapsed ones included), above all those
        renewed already (up to the limit); often the buyer asks the instant the page offers more time."""
        reserved = [o for o in self.orders if o.status == S.RESERVED]
        o = data.draw(st.sampled_from([o for o in reserved if o.renewals] * 3 + reserved or self.orders))
        if into_window and o.expires_at - clock.now() > WINDOW:
            clock.advance(o.expires_at - WINDOW - clock.now())
        expected = self._renewal_refused_with(o)
        try:
            renewed = renewing.renew(self._db_order(o), actor="model")
        except (HoldExpired, NotReserved, NotRenewable) as refused:
            assert type(refused) is expected, (refused, expected)
            return
        assert expected is None
        o.expires_at, o.renewals = o.expires_at + RENEWAL, o.renewals + 1
        assert (renewed.expires_at, renewed.renewals) == (o.expires_at, o.renewals)

    # --- rules: the waiting list ---------------------------------------------------
    @rule(data=st.data(), people=st.lists(st.tuples(st.sampled_from([1, 1, 2, LIMIT, 0, LIMIT + 1]),
                                                    st.integers(0, 4), st.booleans()), min_size=1, max_size=3))
    def join(self, data, people):
        """A few people join one line in turn: mostly that of a ticket type the public cannot buy
        (the line's reason to be), sometimes any."""
        name = data.draw(st.sampled_from([n for n in self.names if not self._available(n)] * 3 + self.names))
        for quantity, who, shout in people:
            self._join(name, quantity, f"w{who}@example.test", shout)

    def _join(self, name: str, quantity: int, email: str, shout: bool) -> None:
        try:
            entry = waitlist.join("model", self.type_ids[name], quantity, email.upper() if shout else email)
        except InvalidRequest:
            assert not 1 <= quantity <= LIMIT
            return
        except waitlist.AlreadyWaiting:  # one place per address (whatever its case) and ticket type
            assert 1 <= quantity <= LIMIT and self._available(name) < quantity
            assert any(e.email == email for e in self.line.waiting(name))
            return
        except Conflict:  # enough for the public: reserve instead
            assert 1 <= quantity <= LIMIT and self._available(name) >= quantity
            return
        assert 1 <= quantity <= LIMIT and self._available(name) < quantity
        assert not any(e.email == email for e in self.line.waiting(name))
        assert (entry.email, entry.quantity, entry.status) == (email, quantity, W.WAITING)
        self.line.entries.append(ModelEntry(entry.id, entry.token, name, email, quantity))

    @precondition(lambda self: self.line.entries)
    @rule(data=st.data())
    def leave(self, data):
        e = data.draw(st.sampled_from(self.line.entries))
        try:
            left = waitlist.leave(e.token)
        except Conflict:  # an offer is a hold: paid or released on its own page
            assert e.status == W.OFFERED
            return
        assert e.status != W.OFFERED
        if e.status == W.WAITING:
            e.status = W.LEFT
        assert left.status == e.status

    @rule(name=st.sampled_from(sorted(CAPACITY)))
    def serve(self, name):
        """The job that offers what came back to the line."""
        made = waitlist.serve(self.type_ids[name])
        expected = [(e.id, q) for e, q in self._offers_due(name)]
        assert [(o.waitlist_entry_id, o.quantity) for o in made] == expected
        self._take_offers([name])

    def _live_holds(self, offers: bool) -> list[ModelOrder]:
        return [o for o in self.orders if (o.entry is not None) == offers and self._holds(o)]

    @precondition(lambda self: self._live_holds(offers=False))
    @rule(data=st.data(), by_release=st.booleans())
    def hold_comes_back(self, data, by_release):
        """A public hold is released, or lapses and is expired; then the job it prompts serves the line."""
        o = data.draw(st.sampled_from(self._live_holds(offers=False)))
        if by_release:
            reserving.release(self._db_order(o), actor="model")
            o.status = S.CANCELLED
        else:
            clock.advance(o.expires_at - clock.now())
            assert expiry.expire_if_lapsed(o.id)
            o.status = S.EXPIRED
        for name in o.items:
            waitlist.serve(self.type_ids[name])
        self._take_offers(list(o.items))

    @precondition(lambda self: self._live_holds(offers=True))
    @rule(data=st.data(), by_sweep=st.booleans())
    def offer_lapses(self, data, by_sweep):
        """An offer not taken lapses at its instant; the expiry job, or the sweep, passes it on."""
        o = data.draw(st.sampled_from(self._live_holds(offers=True)))
        clock.advance(o.expires_at - clock.now())
        assert not self._holds(o)
        lapsed = [m for m in self.orders if m.status in (S.RESERVED, S.PAYMENT_PROCESSING) and not self._holds(m)]
        if by_sweep:
            assert expiry.sweep() == len(lapsed)
            for m in lapsed:
                m.status = S.EXPIRED
            self._take_offers(self.names)  # the sweep serves every line
        else:
            assert expiry.expire_if_lapsed(o.id)
            o.status = S.EXPIRED
            [name] = o.items
            waitlist.serve(self.type_ids[name])  # the job the expiry prompts
            self._take_offers([name])

    @precondition(lambda self: any(o.entry is not None for o in self.orders))
    @rule(data=st.data())
    def pay_offer(self, data):
        self._pay(data.draw(st.sampled_from([o for o in self.orders if o.entry is not None])))

    # --- invariants ------------------------------------------------------------------
    @invariant()
    def availability_matches_the_model(self):
        db.session.commit()
        figures = availability.figures(self.event_id)
        counted = taken(self.event_id, clock.now())
        for name, tt_id in self.type_ids.items():
            f = figures[tt_id]
            assert (f.sold, f.held, f.waiting, f.available) == (
                self._sold(name), self._held(name), self._waiting(name), self._available(name)), (name, f)
            assert f.waiting_people == len(self.line.waiting(name))
            assert counted[tt_id] == (f.capacity, f.sold, f.held)
        assert_not_oversold(self.event_id, clock.now())

    @invariant()
    def the_line_matches_the_model(self):
        # entry_statuses also checks: one offer per offered entry, none for any other.
        assert entry_statuses(self.event_id) == {e.id: e.status.value for e in self.line.entries}
        for tt_id in self.type_ids.values():  # line order: nobody waits ahead of anyone offered
            assert_offers_are_a_prefix(tt_id)


def _run(app, partial_offers: bool):
    run_state_machine_as_test(
        lambda: ShopModel(app, partial_offers),
        settings=settings(max_examples=20, stateful_step_count=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )


def test_availability_and_the_line_always_match_the_model(app, rq_redis):
    _run(app, partial_offers=False)


def test_with_partial_offers_too(app, rq_redis):
    _run(app, partial_offers=True)

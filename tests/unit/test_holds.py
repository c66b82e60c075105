"""The hold rule and the effective status, in Python and in SQL (SQLite in memory:
no PostgreSQL or Redis), and that the two forms agree at every instant."""
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from eventsite.domain.holds import (
    effective_status,
    effective_status_clause,
    effective_status_is,
    hold_ends_at,
    holds_at,
    holds_clause,
)
from eventsite.domain.models import Base, Event, Order, Organizer
from eventsite.domain.models import OrderStatus as S

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EXPIRES = T0 + timedelta(minutes=15)


PENDING_UNTIL = EXPIRES + timedelta(hours=72)


def order(status: S, *, pending: bool = False) -> Order:
    return Order(status=status, expires_at=EXPIRES, payment_pending=pending, email="a@b.test", event_id=1,
                 pending_until=PENDING_UNTIL if pending else None)


@pytest.mark.parametrize("status", [S.RESERVED, S.PAYMENT_PROCESSING])
def test_a_hold_counts_until_its_expiry_instant_and_not_at_it(status):
    held = order(status)
    assert holds_at(held, EXPIRES - timedelta(microseconds=1))
    assert not holds_at(held, EXPIRES)
    assert effective_status(held, EXPIRES - timedelta(microseconds=1)) == status
    assert effective_status(held, EXPIRES) == S.EXPIRED


def test_a_submitted_bank_debit_keeps_its_hold_past_expiry_up_to_its_limit():
    pending = order(S.PAYMENT_PROCESSING, pending=True)
    assert holds_at(pending, EXPIRES + timedelta(days=1))
    assert effective_status(pending, EXPIRES + timedelta(days=1)) == S.PAYMENT_PROCESSING
    assert hold_ends_at(pending) == PENDING_UNTIL
    assert not holds_at(pending, PENDING_UNTIL) and effective_status(pending, PENDING_UNTIL) == S.EXPIRED


@pytest.mark.parametrize("status", [S.CONFIRMED, S.EXPIRED, S.CANCELLED, S.REFUNDED])
def test_settled_orders_hold_nothing_and_show_their_stored_status(status):
    settled = order(status)
    assert not holds_at(settled, T0)
    assert effective_status(settled, EXPIRES + timedelta(hours=1)) == status


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        event = Event(organizer=Organizer(email="o@x.test", password_hash="!"), slug="e", title="E", starts_at=T0)
        session.add(event)
        session.flush()
        for status in S:
            for pending, until in ((False, None), (True, PENDING_UNTIL), (True, None)):
                if pending and status != S.PAYMENT_PROCESSING:
                    continue
                session.add(Order(event_id=event.id, currency="EUR", email=f"{status}{pending}{until}@x.test",
                                  status=status, payment_pending=pending, pending_until=until, expires_at=EXPIRES,
                                  created_at=T0, updated_at=T0))
        session.commit()
        yield session


@pytest.mark.parametrize("at", [T0, EXPIRES - timedelta(seconds=1), EXPIRES, EXPIRES + timedelta(hours=2),
                                PENDING_UNTIL])
def test_the_sql_forms_agree_with_the_python_forms(session, at):
    for o, holds, shown in session.execute(select(Order, holds_clause(at), effective_status_clause(at))):
        assert bool(holds) == holds_at(o, at), o.email
        assert S(shown) == effective_status(o, at), o.email
    for status in S:
        filtered = set(session.scalars(select(Order.id).where(effective_status_is(status, at))))
        assert filtered == {o.id for o in session.scalars(select(Order)) if effective_status(o, at) == status}

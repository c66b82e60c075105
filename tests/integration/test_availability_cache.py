"""The shared availability cache: exact lapse instants with a warm cache, invalidation
after every committed change, Redis down, and never trusted under the lock."""
import logging
from datetime import timedelta

import pytest
from invariants import assert_never_oversold
from sqlalchemy import event as sa_event
from sqlalchemy import update
from test_concurrency import race

from eventsite.domain import state_machine
from eventsite.domain.models import Event, OrderStatus, TicketType
from eventsite.infra.db import db
from eventsite.infra.transactions import write_transaction
from eventsite.readmodels import availability, availability_cache
from eventsite.services import paying, reserving
from eventsite.services.expiry import sweep


@pytest.fixture
def show(ctx, make_event, frozen):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5, "per_order_limit": 5})
    return db.session.get(Event, event_id), ga


def shown(event_id, ga, **kwargs):
    return availability.for_display(event_id, **kwargs)[ga]


def change_capacity_behind_the_cache(ga, capacity):
    """A Core UPDATE skips the ORM flush hook: only the lifetime bounds what the cache shows."""
    with write_transaction():
        db.session.execute(update(TicketType).where(TicketType.id == ga).values(capacity=capacity))


def test_display_figures_are_shared_for_the_cache_lifetime_only(app, show, frozen):
    event, ga = show
    assert shown(event.id, ga).available == 5
    change_capacity_behind_the_cache(ga, 3)

    assert shown(event.id, ga).available == 5  # the warm entry answered
    assert availability.figures(event.id)[ga].available == 3  # the database did not change its mind
    frozen.advance(timedelta(seconds=app.config["AVAILABILITY_CACHE_SECONDS"]))
    assert shown(event.id, ga).available == 3


def test_a_lapsed_hold_stops_counting_at_its_exact_instant_with_the_cache_warm(show, frozen):
    event, ga = show
    order = reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    frozen.advance(order.expires_at - timedelta(microseconds=1) - frozen.now())

    assert shown(event.id, ga).held == 2  # warms the cache one microsecond before expiry
    frozen.advance(timedelta(microseconds=1))
    assert (shown(event.id, ga).held, shown(event.id, ga).available) == (0, 5)


def test_every_committed_change_is_shown_at_once(show, frozen):
    event, ga = show
    assert shown(event.id, ga).available == 5

    first = reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    assert (shown(event.id, ga).held, shown(event.id, ga).available) == (2, 3)
    second = reserving.reserve(event.slug, {ga: 1}, "bob@example.test")
    assert shown(event.id, ga).available == 2
    reserving.release(second, actor="buyer")
    assert shown(event.id, ga).available == 3
    assert paying.confirm_payment(first.id, reason="paid", actor="stripe")
    assert (shown(event.id, ga).sold, shown(event.id, ga).held) == (2, 0)

    tt = db.session.get(TicketType, ga)
    tt.capacity = 4  # an organizer's edit (ORM flush)
    db.session.commit()
    assert (shown(event.id, ga).capacity, shown(event.id, ga).available) == (4, 2)


def test_the_sweep_and_a_failed_transaction_are_seen_as_they_commit(show, frozen):
    event, ga = show
    order = reserving.reserve(event.slug, {ga: 1}, "ann@example.test")
    before = availability_cache.generation(event.id)
    with pytest.raises(RuntimeError), write_transaction():
        state_machine.transition(db.session.get(type(order), order.id), OrderStatus.CANCELLED, reason="test")
        raise RuntimeError("rolled back")
    assert availability_cache.generation(event.id) == before  # nothing committed, nothing dropped

    frozen.advance(timedelta(minutes=15))
    assert sweep() == 1
    assert availability_cache.generation(event.id) == before + 1


def test_viewer_numbers_come_from_their_own_token(show, frozen):
    event, ga = show
    order = reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    reserving.reserve(event.slug, {ga: 1}, "bob@example.test")

    mine = shown(event.id, ga, viewer_token=order.token)
    theirs = shown(event.id, ga, viewer_token="someone-else")
    assert (mine.held_by_you, mine.held_by_others, mine.available) == (2, 1, 2)
    assert (theirs.held_by_you, theirs.held_by_others) == (0, 3)


def test_redis_down_computes_from_the_database_and_warns_once(show, frozen, settings, caplog, monkeypatch):
    event, ga = show
    settings(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(availability_cache, "_last_warning", float("-inf"))

    with caplog.at_level(logging.WARNING, logger=availability_cache.__name__):
        reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
        assert shown(event.id, ga).available == 3
        reserving.reserve(event.slug, {ga: 3}, "bob@example.test")
        assert shown(event.id, ga).available == 0
    assert len([r for r in caplog.records if r.name == availability_cache.__name__]) == 1


def test_the_locked_recheck_never_trusts_a_stale_warm_cache(app, ctx, make_event):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 50, "per_order_limit": 1})
    assert shown(event_id, ga).available == 50
    change_capacity_behind_the_cache(ga, 5)  # the cache now says 45 too many are left

    outcome = race(app, event_id, [{ga: 1}] * 40, workers=20)

    assert outcome == {"granted": 5, "sold out": 35}
    assert_never_oversold(event_id)


def test_an_unchanged_anonymous_poll_runs_no_query(app, client, show, frozen):
    event, ga = show
    first = client.get(f"/events/{event.slug}/availability")
    api = client.get(f"/api/v1/events/{event.slug}/availability")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(db.engine, "before_cursor_execute", listener)
    try:
        again = client.get(f"/events/{event.slug}/availability", headers={"If-None-Match": first.headers["ETag"]})
        fresh_eyes = client.get(f"/events/{event.slug}/availability")
        api_again = client.get(f"/api/v1/events/{event.slug}/availability",
                               headers={"If-None-Match": api.headers["ETag"]})
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", listener)
    assert (first.status_code, again.status_code, api_again.status_code) == (200, 304, 304)
    assert fresh_eyes.status_code == 200 and fresh_eyes.text == first.text
    assert api.json["ticket_types"][0]["available"] == 5
    assert statements == []

    reserving.reserve(event.slug, {ga: 2}, "ann@example.test")
    changed = client.get(f"/events/{event.slug}/availability", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "3 tickets available (2 reserved by others)" in changed.text
    assert client.get(f"/api/v1/events/{event.slug}/availability").json["ticket_types"][0]["available"] == 3


def test_unpublishing_is_seen_by_the_next_poll(client, show, frozen):
    event, _ = show
    assert client.get(f"/events/{event.slug}/availability").status_code == 200
    event.published = False
    db.session.commit()
    assert client.get(f"/events/{event.slug}/availability").status_code == 404
    assert client.get(f"/api/v1/events/{event.slug}/availability").status_code == 404


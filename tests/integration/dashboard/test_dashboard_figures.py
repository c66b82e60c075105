"""Live figures and the chart: the same counts as the shop at the same instant, and bounded queries."""
from __future__ import annotations

import re
from datetime import timedelta

from dashboard_helpers import pay, reserve
from sqlalchemy import event as sa_event

from eventsite.domain import state_machine
from eventsite.domain.models import Event, Order, OrderStatus
from eventsite.infra.db import db
from eventsite.infra.transactions import write_transaction
from eventsite.readmodels import availability, chart
from eventsite.readmodels import organizer_figures as figures
from eventsite.services import expiry, reserving

ROW = re.compile(r'data-row="([^"]+)">(.*?)</tr>', re.S)
CELL = re.compile(r'data-figure="([a-z-]+)">(.*?)</td>', re.S)


def shown(html: str) -> dict[str, dict[str, str]]:
    """The figures table as a reader sees it: {row: {figure: text}}."""
    return {row: {name: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for name, text in CELL.findall(body)}
            for row, body in ROW.findall(html)}


def make_story(app, frozen, make_event):
    """Six buyers' stories across three ticket types; the clock ends 20 minutes after T0."""
    event_id, (ga, vip, usd) = make_event(
        {"name": "GA", "capacity": 10, "price": 1000}, {"name": "VIP", "capacity": 5, "price": 5000},
        {"name": "Visitor", "capacity": 5, "price": 2000}, organizer_email="owner@example.test")
    with app.app_context():
        d = reserve(event_id, {vip: 2}, "d@example.test").id  # will lapse, never swept
        f = reserve(event_id, {ga: 1}, "f@example.test").id  # will lapse and be swept
        frozen.advance(timedelta(minutes=20))
        assert expiry.expire_if_lapsed(f)
        reserve(event_id, {ga: 2}, "a@example.test")  # live hold
        b = reserve(event_id, {ga: 1, vip: 1}, "b@example.test").id
        pay(b)
        c = reserve(event_id, {ga: 3}, "c@example.test")
        reserving.release(c, actor="buyer:c")
        e = reserve(event_id, {usd: 1}, "e@example.test").id
        pay(e)
    return event_id, (ga, vip, usd), d


def test_figures_per_type_and_in_total(app, frozen, make_event):
    t0 = frozen.now()
    event_id, (ga, vip, usd), _ = make_story(app, frozen, make_event)
    with app.app_context():
        numbers = figures.event_figures(db.session.get(Event, event_id))
        shop = availability.figures(event_id, at=numbers.at)
    by_name = {row.name: row for row in numbers.types}
    for name, tt_id in (("GA", ga), ("VIP", vip), ("Visitor", usd)):
        row, same = by_name[name], shop[tt_id]
        assert (row.capacity, row.sold, row.held, row.available, row.next_release_at) == (
            same.capacity, same.sold, same.held, same.available, same.next_release_at)
    ga_row, vip_row, usd_row, total = by_name["GA"], by_name["VIP"], by_name["Visitor"], numbers.total
    assert (ga_row.sold, ga_row.held, ga_row.available, ga_row.outcomes.live_holds) == (1, 2, 7, 1)
    assert ga_row.next_release_at == t0 + timedelta(minutes=35)
    assert (ga_row.outcomes.expired_tickets, ga_row.outcomes.released_tickets) == (1, 3)
    assert ga_row.revenue == {"EUR": 1000} and ga_row.outcomes.conversion == 25.0
    # VIP: d's hold lapsed at T0+15 and was never swept: not held, counted as expired.
    assert (vip_row.sold, vip_row.held, vip_row.available, vip_row.outcomes.expired_tickets) == (1, 0, 4, 2)
    assert vip_row.revenue == {"EUR": 5000} and vip_row.outcomes.conversion == 50.0
    assert usd_row.revenue == {"EUR": 2000} and usd_row.outcomes.conversion == 100.0
    assert (total.capacity, total.sold, total.held, total.available) == (20, 3, 2, 15)
    assert (total.outcomes.live_holds, total.outcomes.expired_orders, total.outcomes.expired_tickets) == (1, 2, 3)
    assert (total.outcomes.released_orders, total.outcomes.released_tickets) == (1, 3)
    assert total.revenue == {"EUR": 8000}
    assert total.outcomes.conversion == 33.3  # b and e paid, out of six orders


def test_the_polled_fragment_shows_the_figures(app, world, owner, frozen, make_event):
    event_id, _, _ = make_story(app, frozen, make_event)
    response = owner.get(f"/dashboard/events/{event_id}/live")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'hx-trigger="every 5s"' in html
    table = shown(html)
    assert table["GA"]["held"] == "2" and table["GA"]["live-holds"] == "1"
    assert table["GA"]["next-release"] == "Mon 01 Jun 2026, 12:35 UTC"
    assert table["VIP"]["expired"] == "2 (1 order)"
    assert table["Total"] == {
        "capacity": "20", "sold": "3", "held": "2", "live-holds": "1", "next-release": "Mon 01 Jun 2026, 12:35 UTC",
        "available": "15", "expired": "3 (2 orders)", "released": "3 (1 order)",
        "revenue": "€80.00", "conversion": "33.3 %", "checked-in": "0 of 3"}
    # The full page embeds the same fragment.
    assert shown(owner.get(f"/dashboard/events/{event_id}").get_data(as_text=True)) == table


def test_a_hold_stops_counting_the_instant_it_lapses(app, world, owner, frozen):
    with app.app_context():
        order = reserve(world.event_id, {world.ticket_type_ids[0]: 4}, "lapsing@example.test")
        expires = order.expires_at
    frozen.freeze(expires - timedelta(microseconds=1))
    assert shown(owner.get(f"/dashboard/events/{world.event_id}/live").get_data(as_text=True))["GA"]["held"] == "6"
    frozen.freeze(expires)
    table = shown(owner.get(f"/dashboard/events/{world.event_id}/live").get_data(as_text=True))
    assert table["GA"]["held"] == "2" and table["GA"]["expired"] == "4 (1 order)"


def test_chart_follows_sales_holds_and_lapses_minute_by_minute(app, world, owner, frozen, make_event):
    t0 = frozen.now()  # 12:00 sharp
    event_id, (ga,) = make_event({"name": "GA", "capacity": 10}, hold_minutes=15, organizer_email="owner@example.test")
    with app.app_context():
        x = reserve(event_id, {ga: 2}, "x@example.test").id  # 12:00, paid 12:10, refunded 13:00:30
        frozen.advance(timedelta(minutes=10))
        pay(x)
        frozen.freeze(t0 + timedelta(minutes=30))
        reserve(event_id, {ga: 3}, "y@example.test")  # 12:30, lapses at 12:45, never swept
        frozen.freeze(t0 + timedelta(minutes=50))
        z = reserve(event_id, {ga: 1}, "z@example.test")  # 12:50, released after two minutes
        frozen.advance(timedelta(minutes=2))
        reserving.release(z, actor="buyer:z")
        frozen.freeze(t0 + timedelta(minutes=60, seconds=30))
        with write_transaction():
            state_machine.transition(db.session.get(Order, x), OrderStatus.REFUNDED, reason="test refund", actor="test")
        frozen.freeze(t0 + timedelta(minutes=61))
        data = chart.series(event_id)
        shop = availability.figures(event_id)[ga]
        expired = figures.event_figures(db.session.get(Event, event_id)).total.outcomes.expired_tickets
    assert data.step == timedelta(minutes=1)
    assert data.instants == [t0 + timedelta(minutes=m) for m in range(62)]
    at = {m: (data.sold[m], data.held[m], data.lapsed[m]) for m in range(62)}  # minute -> (sold, held, lapsed)
    assert (at[0], at[9], at[10]) == ((0, 2, 0), (0, 2, 0), (2, 0, 0))
    assert (at[29], at[30], at[44], at[45]) == ((2, 0, 0), (2, 3, 0), (2, 3, 0), (2, 0, 3))  # from 12:30, not 12:00
    assert (at[49], at[50], at[51], at[52]) == ((2, 0, 3), (2, 1, 3), (2, 1, 3), (2, 0, 3))  # a two-minute hold shows
    assert (at[60], at[61]) == ((2, 0, 3), (0, 0, 3))
    assert (data.sold[-1], data.held[-1], data.lapsed[-1]) == (shop.sold, shop.held, expired)

    page = owner.get(f"/dashboard/events/{event_id}/live").get_data(as_text=True)
    assert [name for name in re.findall(r'data-series="(\w+)"', page)] == ["sold", "held", "lapsed"]
    legend = [" ".join(text.split()) for text in re.findall(r'data-legend="\w+">.*?</svg>(.*?)</li>', page, re.S)]
    assert legend == ["sold: 0", "held: 0", "lapsed: 3"] and "one point every 1 min" in page


def test_chart_keeps_to_the_point_limit_over_a_long_sale(app, frozen, make_event):
    t0 = frozen.now()
    event_id, (ga,) = make_event({"name": "GA", "capacity": 10})
    with app.app_context():
        reserve(event_id, {ga: 1})
        frozen.advance(timedelta(days=9, minutes=5))
        data = chart.series(event_id)
        plot = chart.plot(data)
    assert data.step == timedelta(hours=3)
    assert len(data.instants) <= chart.MAX_STEPS + 1 and data.instants[-1] == t0 + timedelta(days=9, minutes=5)
    assert (data.held[0], data.held[-1], data.lapsed[0], data.lapsed[-1]) == (1, 0, 0, 1)
    assert all(len(line.points.split()) == len(data.instants) for line in plot.lines)


def test_event_page_without_orders_says_so(world, owner, app, make_event):
    event_id, _ = make_event(slug="empty", organizer_email="owner@example.test")
    page = owner.get(f"/dashboard/events/{event_id}").get_data(as_text=True)
    assert "No orders yet" in page and shown(page)["Total"]["conversion"] == "–"


def count_statements(app, fn) -> int:
    statements = []

    def record(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_live_figures_cost_the_same_few_queries_however_many_orders(app, world, owner):
    path = f"/dashboard/events/{world.event_id}/live"
    few = count_statements(app, lambda: owner.get(path))
    with app.app_context():
        for n in range(15):  # GA has 20 seats, 2 already held
            order_id = reserve(world.event_id, {world.ticket_type_ids[0]: 1}, f"b{n}@example.test").id
            if n % 3 == 0:
                pay(order_id)
    assert count_statements(app, lambda: owner.get(path)) == few

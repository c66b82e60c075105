"""Operator commands: exit codes, stdout for results, stderr for errors."""
from datetime import timedelta

from eventsite.domain.models import Event
from eventsite.infra.db import db
from eventsite.readmodels import lookups
from eventsite.services import reserving
from eventsite.services.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_SLUG


def test_demo_load_creates_a_published_event_once(app, ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0
    assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "already loaded" in second.output
    event = lookups.published_event(DEMO_SLUG)
    assert [tt.name for tt in event.ticket_types] == ["General admission", "VIP"]


def test_inventory_show_prints_the_live_figures(app, ctx, make_event, frozen):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 10})
    order = reserving.reserve(db.session.get(Event, event_id).slug, {ga: 3}, "ann@example.test")

    result = app.test_cli_runner().invoke(args=["inventory", "show", "rush"])

    assert result.exit_code == 0
    row = next(line for line in result.output.splitlines() if line.startswith("GA"))
    assert row.split()[:5] == ["GA", "10", "0", "3", "7"]
    assert order.expires_at.isoformat(timespec="seconds") in row

    frozen.advance(timedelta(minutes=15))
    lapsed = app.test_cli_runner().invoke(args=["inventory", "show", "rush"])
    row = next(line for line in lapsed.output.splitlines() if line.startswith("GA"))
    assert row.split()[:5] == ["GA", "10", "0", "0", "10"]


def test_inventory_show_of_an_unknown_event_fails_on_stderr(app):
    result = app.test_cli_runner().invoke(args=["inventory", "show", "nope"])
    assert result.exit_code == 2
    assert "no event with slug 'nope'" in result.stderr
    assert result.stdout == ""

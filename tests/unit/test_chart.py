"""The dashboard chart's pure parts: step choice, boundaries, running sums, SVG scaling."""
from datetime import UTC, datetime, timedelta

import pytest

from eventsite.readmodels.chart import MAX_STEPS, Series, _boundaries, _per_step, plot, step_for

T0 = datetime(2026, 6, 1, 20, 30, 20, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.mark.parametrize(("span", "step"), [
    (timedelta(0), MIN), (timedelta(minutes=119), MIN),  # the first two hours of an on-sale: minute by minute
    (timedelta(hours=3), 5 * MIN), (timedelta(hours=9), 5 * MIN),
    (timedelta(hours=20), 15 * MIN), (timedelta(days=4), 60 * MIN),
    (timedelta(days=9), 3 * 60 * MIN), (timedelta(days=100), timedelta(days=1)),
    (timedelta(days=400), timedelta(days=4)),
])
def test_the_step_is_the_finest_that_keeps_to_the_point_limit(span, step):
    assert step_for(T0, T0 + span) == step


def test_a_hold_placed_at_2030_shows_from_2030_minute_by_minute():
    at = T0 + timedelta(minutes=3, seconds=5)
    start = T0.replace(second=0)
    assert _boundaries(T0, at) == [start, start + MIN, start + 2 * MIN, start + 3 * MIN, at]


def test_steps_fall_on_round_clock_times():
    instants = _boundaries(T0, T0 + timedelta(hours=20))  # 15-minute steps
    assert instants[0] == T0.replace(minute=30, second=0)
    assert {(i.minute % 15, i.second) for i in instants[:-1]} == {(0, 0)}


@pytest.mark.parametrize("span", [timedelta(minutes=m) for m in (1, 90, 121, 600, 601, 1800, 1801)]
                         + [timedelta(days=d, minutes=7) for d in (5, 30, 120, 400)])
def test_never_more_than_the_limit_of_steps_and_the_last_point_is_now(span):
    instants = _boundaries(T0, T0 + span)
    assert len(instants) <= MAX_STEPS + 1 and instants[-1] == T0 + span
    assert instants == sorted(set(instants))
    steps = {b - a for a, b in zip(instants[:-2], instants[1:-1], strict=True)}
    assert steps <= {step_for(T0, T0 + span)}


def test_per_step_sums_run_and_ignore_changes_after_the_last_boundary():
    assert _per_step([(0, 3), (2, -1), (None, 50), (0, 1)], 3) == [4, 4, 3]


def test_plot_scales_three_series_into_the_box_with_y_growing_down():
    series = Series([T0, T0 + timedelta(hours=1)], sold=[0, 4], held=[2, 0], lapsed=[0, 1], step=60 * MIN)
    drawn = plot(series, width=100, height=60, pad=10)
    assert [(line.name, line.points, line.last) for line in drawn.lines] == [
        ("sold", "10.0,50.0 90.0,10.0", 4), ("held", "10.0,30.0 90.0,50.0", 0), ("lapsed", "10.0,50.0 90.0,40.0", 1)]
    assert drawn.ticks == [(50.0, "0"), (10.0, "4")] and drawn.step_minutes == 60

"""The dashboard chart's pure parts: step boundaries, running sums, SVG scaling."""
from datetime import UTC, datetime, timedelta, timezone

from eventsite.readmodels.chart import MAX_POINTS, Series, _boundaries, _per_step, plot

T0 = datetime(2026, 6, 1, 12, 20, tzinfo=UTC)


def test_steps_are_whole_hours_from_the_first_order_and_end_at_now():
    at = T0 + timedelta(hours=2, minutes=5)
    assert _boundaries(T0, at) == [T0.replace(minute=0), T0.replace(minute=0) + timedelta(hours=1),
                                   T0.replace(minute=0) + timedelta(hours=2), at]


def test_a_long_sale_keeps_to_the_point_limit():
    instants = _boundaries(T0, T0 + timedelta(days=30))
    assert len(instants) <= MAX_POINTS + 2 and instants[-1] == T0 + timedelta(days=30)
    steps = {b - a for a, b in zip(instants[1:-2], instants[2:-1], strict=True)}
    assert len(steps) == 1 and next(iter(steps)) % timedelta(hours=1) == timedelta(0)


def test_per_step_sums_run_and_ignore_changes_after_the_last_boundary():
    assert _per_step([(0, 3), (2, -1), (None, 50), (0, 1)], 3) == [4, 4, 3]


def test_plot_scales_into_the_box_with_y_growing_down():
    series = Series([T0, T0 + timedelta(hours=1)], sold=[0, 4], held=[2, 0])
    drawn = plot(series, width=100, height=60, pad=10)
    assert drawn.sold_points == "10.0,50.0 90.0,10.0" and drawn.held_points == "10.0,30.0 90.0,50.0"
    assert drawn.ticks == [(50.0, "0"), (10.0, "4")]

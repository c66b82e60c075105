"""The decision of the locked recheck, on given figures: fits, sold out, or all reserved."""
from datetime import UTC, datetime, timezone

from eventsite.domain.capacity import Availability, capacity_refusal, refusal
from eventsite.domain.errors import AllReserved, Conflict, SoldOut

RELEASE = datetime(2026, 6, 1, 12, 15, tzinfo=UTC)


def figure(capacity=10, sold=0, held=0, mine=0, release=None) -> Availability:
    return Availability(1, capacity, sold, held, mine, release)


def test_available_never_goes_below_zero_and_splits_holds_by_viewer():
    f = figure(capacity=5, sold=4, held=3, mine=1)
    assert f.available == 0 and f.held_by_you == 1 and f.held_by_others == 2


def test_what_fits_is_granted():
    assert refusal({1: 3}, {1: figure(sold=4, held=3)}) is None


def test_not_enough_left_says_how_many_and_sold_out_says_so():
    only = refusal({1: 3}, {1: figure(sold=8)})
    none = refusal({1: 1}, {1: figure(sold=10)})
    assert isinstance(only, SoldOut) and only.message == "Only 2 left." and only.field == "items"
    assert isinstance(none, SoldOut) and not isinstance(none, AllReserved) and none.message == "Sold out."


def test_tickets_held_by_others_may_come_back_at_the_earliest_expiry():
    refused = refusal({1: 2}, {1: figure(sold=8, held=2, release=RELEASE)})
    assert isinstance(refused, AllReserved) and refused.retry_at == RELEASE


def test_capacity_cannot_go_below_what_is_sold_and_held():
    assert capacity_refusal(figure(sold=3, held=2), 5) is None
    refused = capacity_refusal(figure(sold=3, held=2), 4)
    assert isinstance(refused, Conflict) and refused.field == "capacity"
    assert refused.message == "Capacity cannot go below 5: 3 sold and 2 held right now."

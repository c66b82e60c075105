"""Dates a zone cannot show, and zone names that are no zones (issue 13)."""
from datetime import UTC, datetime

import pytest

from eventsite.domain.formatting import known_timezone, shown_in
from eventsite.readmodels.localized import when

LAST_HOUR = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
FIRST_HOUR = datetime(1, 1, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "tz", "shown"), [
    (LAST_HOUR, "UTC", True), (LAST_HOUR, "America/New_York", True), (LAST_HOUR, "Asia/Tokyo", False),
    (FIRST_HOUR, "UTC", True), (FIRST_HOUR, "Europe/Berlin", True), (FIRST_HOUR, "America/New_York", False),
])
def test_shown_in_says_whether_the_zone_has_a_wall_clock_time_for_it(moment, tz, shown):
    assert shown_in(moment, tz) is shown


def test_local_time_writes_an_unshowable_instant_in_utc_instead_of_failing():
    assert when(LAST_HOUR, "Asia/Tokyo") == "Fri 31 Dec 9999, 23:00 UTC"
    assert when(LAST_HOUR, "Asia/Tokyo", language="de") == "Fr., 31. Dez. 9999, 23:00 UTC"


@pytest.mark.parametrize(("name", "known"), [("Europe/Berlin", True), ("UTC", True), ("Europe", False),
                                             ("Europe/", False), ("UTC\n", False), ("../etc/passwd", False),
                                             ("", False)])
def test_known_timezone_accepts_zone_names_only(name, known):
    assert known_timezone(name) is known

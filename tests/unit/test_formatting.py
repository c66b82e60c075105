"""Money by the currency's ISO 4217 exponent, local times with their zone, the countdown."""
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from eventsite.domain.errors import InvalidRequest
from eventsite.domain.formatting import (
    clock_face,
    decimal_amount,
    from_minor_units,
    local_time,
    minor_units,
    money,
    seconds_until,
)


@pytest.mark.parametrize(("minor", "currency", "shown", "plain"), [
    (2500, "EUR", "€25.00", "25.00"),
    (123456789, "USD", "$1,234,567.89", "1234567.89"),
    (2500, "JPY", "¥2,500", "2500"),
    (1234567, "KWD", "1,234.567 KWD", "1234.567"),
    (5, "GBP", "£0.05", "0.05"),
    (-150, "CHF", "-1.50 CHF", "-1.50"),
])
def test_amounts_follow_the_currency_exponent(minor, currency, shown, plain):
    assert money(minor, currency) == shown
    assert decimal_amount(minor, currency) == plain
    assert minor_units(Decimal(plain), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(plain)


def test_more_decimals_than_the_currency_has_are_refused():
    with pytest.raises(InvalidRequest, match="JPY amounts have 0 decimal places"):
        minor_units(Decimal("25.5"), "JPY")
    with pytest.raises(InvalidRequest, match="EUR amounts have 2 decimal places"):
        minor_units(Decimal("0.001"), "EUR")


def test_local_time_is_in_the_event_zone_with_its_abbreviation():
    at = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
    assert local_time(at, "Europe/Berlin") == "Tue 02 Jun 2026, 12:00 CEST"
    assert local_time(at, "America/New_York", "%H:%M %Z") == "06:00 EDT"
    assert local_time(None, "UTC") == "–"


def test_the_countdown_rounds_up_and_reaches_zero_at_the_instant():
    expires = datetime(2026, 6, 1, 12, 15, tzinfo=UTC)
    assert seconds_until(expires, expires - timedelta(seconds=871.2)) == 872
    assert seconds_until(expires, expires) == 0 and seconds_until(expires, expires + timedelta(seconds=5)) == 0
    assert clock_face(872) == "14:32" and clock_face(3725) == "1:02:05" and clock_face(0) == "00:00"

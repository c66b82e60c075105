"""Money by the currency's ISO 4217 exponent, written as the event's locale writes it;
local times with their zone; the countdown."""
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
    seconds_until,
)
from eventsite.readmodels.localized import known_currency, known_locale, money


@pytest.mark.parametrize(("minor", "currency", "shown", "plain"), [
    (2500, "EUR", "€25.00", "25.00"),
    (123456789, "USD", "$1,234,567.89", "1234567.89"),
    (2500, "JPY", "¥2,500", "2500"),
    (1234567, "KWD", "KWD1,234.567", "1234.567"),
    (5, "GBP", "£0.05", "0.05"),
    (-150, "CHF", "-CHF1.50", "-1.50"),
    (123450, "HUF", "HUF1,234.50", "1234.50"),  # CLDR would show whole forints: never round what is charged
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


@pytest.mark.parametrize(("minor", "currency", "locale", "shown"), [
    (2550, "EUR", "de_DE", "25,50\xa0€"),
    (2550, "EUR", "fr_FR", "25,50\xa0€"),
    (2500, "JPY", "ja_JP", "￥2,500"),
    (1234567, "KWD", "ar_KW", "\u200f1,234.567\xa0د.ك.\u200f"),
    (123456789, "USD", "en_US", "$1,234,567.89"),
])
def test_amounts_are_written_as_the_events_locale_writes_them(minor, currency, locale, shown):
    assert money(minor, currency, locale) == shown


def test_locales_and_currencies_are_checked_against_cldr():
    assert (known_locale("de-de"), known_locale("ja_JP"), known_locale("en")) == ("de_DE", "ja_JP", "en")
    assert known_locale("klingon") is None and known_locale("") is None
    assert known_currency("eur") and known_currency("KWD") and not known_currency("XYZ")

"""Money by the currency's ISO 4217 exponent, written as the reader's language writes it (in the
event's locale where it speaks that language); local times with their zone; the countdown."""
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from eventsite.domain.errors import InvalidRequest
from eventsite.domain.formatting import (
    clock_face,
    decimal_amount,
    from_minor_units,
    minor_units,
    seconds_until,
)
from eventsite.readmodels.localized import event_ends, event_starts, known_currency, known_locale, money, number, when


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


def test_local_time_is_in_the_event_zone_with_its_abbreviation_in_either_language():
    at = datetime(2026, 6, 2, 10, 0, 5, tzinfo=UTC)
    assert when(at, "Europe/Berlin") == "Tue 02 Jun 2026, 12:00 CEST"
    assert when(at, "Europe/Berlin", language="de") == "Di., 2. Juni 2026, 12:00 CEST"
    assert when(at, "America/New_York", "time") == "06:00 EDT"
    assert when(at, "America/New_York", "seconds", "de") == "06:00:05 EDT"
    assert when(at, "Asia/Tokyo", "day_seconds", "de") == "Di., 2. Juni, 19:00:05 JST"
    assert when(at, "UTC", "stamp") == "2026-06-02 10:00:05 UTC"
    assert when(None, "UTC") == "–"


def test_an_events_times_name_its_zone_and_end_on_the_same_day_with_the_time_alone():
    class Event:
        starts_at, ends_at = datetime(2026, 12, 21, 0, 30, tzinfo=UTC), datetime(2026, 12, 21, 3, 0, tzinfo=UTC)
        timezone = "America/New_York"
    assert event_starts(Event) == "Sun 20 Dec 2026, 19:30 EST (America/New_York)"
    assert event_starts(Event, "de") == "So., 20. Dez. 2026, 19:30 EST (America/New_York)"
    assert event_ends(Event) == "22:00 EST"


def test_numbers_are_grouped_as_the_language_groups_them():
    assert (number(1234567), number(1234567, "de"), number(12, "de")) == ("1,234,567", "1.234.567", "12")


def test_the_countdown_rounds_up_and_reaches_zero_at_the_instant():
    expires = datetime(2026, 6, 1, 12, 15, tzinfo=UTC)
    assert seconds_until(expires, expires - timedelta(seconds=871.2)) == 872
    assert seconds_until(expires, expires) == 0 and seconds_until(expires, expires + timedelta(seconds=5)) == 0
    assert clock_face(872) == "14:32" and clock_face(3725) == "1:02:05" and clock_face(0) == "00:00"


@pytest.mark.parametrize(("minor", "currency", "locale", "language", "shown"), [
    (2550, "EUR", "de_DE", "de", "25,50\xa0€"),
    (2550, "EUR", "de_CH", "de", "EUR\xa025.50"),  # the event's region, where it speaks the reader's language
    (2550, "EUR", "de_DE", "en", "€25.50"),
    (2550, "EUR", "fr_FR", "en", "€25.50"),  # a language we do not speak: the reader's conventions
    (2550, "EUR", "en_US", "de", "25,50\xa0€"),
    (2500, "JPY", "ja_JP", "de", "2.500\xa0¥"),
    (1234567, "KWD", "ar_KW", "en", "KWD1,234.567"),
    (123456789, "USD", "en_US", "en", "$1,234,567.89"),
])
def test_amounts_are_written_as_the_readers_language_writes_them(minor, currency, locale, language, shown):
    assert money(minor, currency, locale, language) == shown


def test_locales_and_currencies_are_checked_against_cldr():
    assert (known_locale("de-de"), known_locale("ja_JP"), known_locale("en")) == ("de_DE", "ja_JP", "en")
    assert known_locale("klingon") is None and known_locale("") is None
    assert known_currency("eur") and known_currency("KWD") and not known_currency("XYZ")

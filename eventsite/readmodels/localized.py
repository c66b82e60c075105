"""Money and time as the reader's language writes them, from Babel's CLDR data.

The language is the page's (or, for an email, the buyer's): ``en`` or ``de``; by default
the current one (``flask_babel.get_locale``).
Amounts follow the event's locale where it speaks that language (``de_CH`` for a
German reader of a Swiss event), else the language's own conventions: "€25.50" in
``en``, "25,50 €" in ``de``. The number of decimals is the currency's ISO 4217
exponent (``domain.formatting``), the one it is charged in, so what is shown is
exactly what is charged; CLDR's own display digits differ for a few currencies
(HUF, IDR, ...), which would round.

Times are shown in the event's time zone, always with the zone's abbreviation.
"""
from __future__ import annotations

import copy
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import NumberPattern, format_decimal, list_currencies, parse_pattern
from flask import current_app, has_app_context
from flask_babel import get_locale

from ..domain.formatting import exponent, from_minor_units, shown_in

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"

# CLDR patterns of each style, per language; the zone's abbreviation follows each (see when()).
_STYLES = {
    "en": {"datetime": "EEE dd MMM y, HH:mm", "time": "HH:mm", "seconds": "HH:mm:ss",
           "day_seconds": "EEE dd MMM, HH:mm:ss", "stamp": "y-MM-dd HH:mm:ss"},
    "de": {"datetime": "EEE, d. MMM y, HH:mm", "time": "HH:mm", "seconds": "HH:mm:ss",
           "day_seconds": "EEE, d. MMM, HH:mm:ss", "stamp": "y-MM-dd HH:mm:ss"},
}


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@cache
def _pattern(locale: str, places: int) -> NumberPattern:
    pattern = copy.copy(parse_pattern(_locale(locale).currency_formats["standard"]))
    pattern.frac_prec = (places, places)
    return pattern


def language_of(language: str | None = None) -> str:
    """``language`` if we speak it; by default the current one (the request's, or an email's forced one)."""
    if language is None and has_app_context() and "babel" in current_app.extensions:  # not the dev payment server
        current = get_locale()
        language = current.language if current else None
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def number_locale(event_locale: str | None, language: str | None) -> str:
    """The locale amounts are written in: the event's where it speaks ``language``, else the language's."""
    language = language_of(language)
    if event_locale and _locale(event_locale).language == language:
        return event_locale
    return language


def money(minor: int, currency: str, event_locale: str | None = None, language: str | None = None) -> str:
    """``money(2550, "EUR", "de_DE", "de")`` -> ``"25,50 €"``; the same in ``en`` -> ``"€25.50"``."""
    locale = number_locale(event_locale, language)
    currency = currency.upper()
    return _pattern(locale, exponent(currency)).apply(
        from_minor_units(minor, currency), _locale(locale), currency=currency, currency_digits=False)


def number(value: int, language: str | None = None) -> str:
    """``1234`` -> ``"1,234"`` (en), ``"1.234"`` (de)."""
    return format_decimal(value, locale=language_of(language))


def when(moment: datetime | None, tz: str, style: str = "datetime", language: str | None = None) -> str:
    """An instant in the event's time zone with the zone's abbreviation: "Sun 20 Dec 2026, 19:30 EST",
    "So., 20. Dez. 2026, 19:30 EST"; "–" for none. One the zone cannot show (saved before dates were
    checked) is written in UTC rather than failing the page."""
    if not moment:
        return "–"
    local = moment.astimezone(ZoneInfo(tz) if shown_in(moment, tz) else UTC)
    language = language_of(language)
    return f"{format_datetime(local, _STYLES[language][style], locale=language)} {local.strftime('%Z')}"


def event_starts(event, language: str | None = None) -> str:
    """"Sun 20 Dec 2026, 19:30 EST (America/New_York)": the event's own time with its zone's name,
    since an abbreviation alone is ambiguous (CST) and a buyer elsewhere must see it is not theirs."""
    starts = when(event.starts_at, event.timezone, language=language)
    return starts if event.timezone == "UTC" else f"{starts} ({event.timezone})"


def event_ends(event, language: str | None = None) -> str | None:
    """The end: its time alone on the same local day, otherwise its date too."""
    if event.ends_at is None:
        return None
    zone = ZoneInfo(event.timezone)
    same_day = event.ends_at.astimezone(zone).date() == event.starts_at.astimezone(zone).date()
    return when(event.ends_at, event.timezone, "time" if same_day else "datetime", language)


def known_locale(name: str) -> str | None:
    """The canonical name of a CLDR locale (``de-de`` -> ``de_DE``), or None if Babel has none."""
    try:
        return str(Locale.parse(name.strip().replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def known_currency(code: str) -> bool:
    return code.upper() in _CURRENCIES


_CURRENCIES = frozenset(list_currencies())

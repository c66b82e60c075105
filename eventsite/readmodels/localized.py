"""Amounts as the people of an event's locale write them, from Babel's CLDR data
("€25.50" in en, "25,50 €" in de_DE, "￥2,500" in ja_JP).

The number of decimals is the currency's ISO 4217 exponent (``domain.formatting``),
the one it is charged in, so what is shown is exactly what is charged; CLDR's own
display digits differ for a few currencies (HUF, IDR, ...), which would round.
"""
from __future__ import annotations

import copy
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern, list_currencies, parse_pattern

from ..domain.formatting import exponent, from_minor_units

DEFAULT_LOCALE = "en"


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@cache
def _pattern(locale: str, places: int) -> NumberPattern:
    pattern = copy.copy(parse_pattern(_locale(locale).currency_formats["standard"]))
    pattern.frac_prec = (places, places)
    return pattern


def money(minor: int, currency: str, locale: str | None = None) -> str:
    """``money(2550, "EUR", "de_DE")`` -> ``"25,50 €"``."""
    locale = locale or DEFAULT_LOCALE
    currency = currency.upper()
    return _pattern(locale, exponent(currency)).apply(
        from_minor_units(minor, currency), _locale(locale), currency=currency, currency_digits=False)


def known_locale(name: str) -> str | None:
    """The canonical name of a CLDR locale (``de-de`` -> ``de_DE``), or None if Babel has none."""
    try:
        return str(Locale.parse(name.strip().replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def known_currency(code: str) -> bool:
    return code.upper() in _CURRENCIES


_CURRENCIES = frozenset(list_currencies())

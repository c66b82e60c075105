"""Money and time as people read them; one way for every page, email and export.

Amounts are integers in the currency's minor unit, whose size is the ISO 4217
exponent (JPY 0, EUR 2, KWD 3).
"""
from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from .errors import N_, InvalidRequest

# ISO 4217 currencies whose minor unit is not the cent (everything else has 2 decimals).
_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                     "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4, "UYW": 4,
}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def minor_units(amount: Decimal, currency: str, *, field: str = "price") -> int:
    """``Decimal("25.50"), "EUR"`` -> ``2550``; refuses more decimals than the currency has."""
    minor = amount.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        places = exponent(currency)
        raise InvalidRequest(N_("%(currency)s amounts have %(places)s decimal places at most."), field=field,
                             currency=currency.upper(), places=places)
    return int(minor)


def from_minor_units(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def decimal_amount(minor: int, currency: str) -> str:
    """``2500, "EUR"`` -> ``"25.00"``; ``2500, "JPY"`` -> ``"2500"`` (exports, no grouping)."""
    places = exponent(currency)
    sign, minor = ("-" if minor < 0 else ""), abs(minor)
    whole, fraction = divmod(minor, 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


UNSHOWABLE = N_("This date cannot be shown in the event's time zone; choose one between the years 2 and 9998.")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_timezone(name: str) -> bool:
    """An IANA zone name of the system's database. Checked against the list, not by opening it:
    ``ZoneInfo("Europe")`` is a directory (IsADirectoryError), ``"UTC\n"`` or ``"../x"`` worse."""
    return name in _zones()


def shown_in(moment: datetime, tz: str) -> bool:
    """Whether the instant exists as a wall-clock time in ``tz`` and in UTC (Python's datetimes end
    at years 1 and 9999: 9999-12-31 23:00 UTC has no Tokyo time), so every page can show it."""
    try:
        moment.astimezone(UTC)
        moment.astimezone(ZoneInfo(tz))
    except (OverflowError, ValueError):
        return False
    return True


def seconds_until(moment: datetime, at: datetime) -> int:
    """Whole seconds left, rounded up, so the display reaches 00:00 exactly at expiry."""
    return max(0, math.ceil((moment - at).total_seconds()))


def clock_face(seconds: int) -> str:
    """mm:ss (h:mm:ss past an hour), as the countdown script also writes it."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"

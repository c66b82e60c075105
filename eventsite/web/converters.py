"""URL converters shared by the areas."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter, ValidationError

MAX_ID = 2**31 - 1  # PostgreSQL integer: a larger id would be a database error, not a miss


class IdConverter(IntegerConverter):
    """``<id:event_id>``: a row id, 1..2**31-1. Anything else names no row, so the URL does
    not match (404) before any query is made."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

"""Input rules every entry point applies the same way (shop, API, dashboard, CLI)."""
from __future__ import annotations

import re

from .errors import InvalidRequest

# PostgreSQL refuses NUL in text (a 500 instead of a 422), and no name or address has control characters.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARACTER_CLASS = r"\x00-\x1f\x7f"  # the same set, for patterns (routes, the OpenAPI document)
MAX_EMAIL_LENGTH = 254


def has_control_characters(text: str) -> bool:
    return bool(CONTROL_CHARACTERS.search(text))


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def email_address(email: str | None, *, field: str = "email") -> str:
    """The address as given, or InvalidRequest: an @ neither first nor last, at
    most 254 characters, no control characters (``EMAIL_PATTERN`` says the same)."""
    email = email or ""
    if ("@" not in email or email[0] == "@" or email[-1] == "@" or len(email) > MAX_EMAIL_LENGTH
            or has_control_characters(email)):
        raise InvalidRequest("Enter a valid email address.", field=field)
    return email


_C = CONTROL_CHARACTER_CLASS
EMAIL_PATTERN = f"^[^{_C}@][^{_C}]*@[^{_C}]*[^{_C}@]$"

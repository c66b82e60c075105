"""Input rules every entry point applies the same way (shop, API, dashboard, CLI)."""
from __future__ import annotations

import re
from collections.abc import Callable

from .errors import N_, InvalidRequest

# PostgreSQL refuses NUL in text (a 500 instead of a 422), and no name or address has control characters.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARACTER_CLASS = r"\x00-\x1f\x7f"  # the same set, for patterns (routes, the OpenAPI document)
MAX_EMAIL_LENGTH = 254


def has_control_characters(text: str) -> bool:
    return bool(CONTROL_CHARACTERS.search(text))


EmailCheck = Callable[[str], str]
"""The full address syntax check (RFC 5322/6531 as email-validator reads it): returns the
normalized address or raises ValueError with what is wrong. The domain may not import
that library, so the composition root hands it over with ``use_email_check``."""
_email_check: EmailCheck | None = None


def use_email_check(check: EmailCheck | None) -> EmailCheck | None:
    """Install the full check (None: only the basic rule); returns the one it replaces."""
    global _email_check
    previous, _email_check = _email_check, check
    return previous


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def email_address(email: str | None, *, field: str = "email") -> str:
    """The address trimmed and normalized, or InvalidRequest: an @ neither first nor last, at
    most 254 characters, no control characters (``EMAIL_PATTERN`` says the same), and, once
    the app has installed it, the full syntax check."""
    email = (email or "").strip(" ")  # spaces around a pasted address; any other blank is refused below
    if ("@" not in email or email[0] == "@" or email[-1] == "@" or len(email) > MAX_EMAIL_LENGTH
            or has_control_characters(email)):
        raise InvalidRequest(N_("Enter a valid email address."), field=field)
    if _email_check is not None:
        try:
            email = _email_check(email)
        except ValueError as error:
            raise InvalidRequest(N_("Enter a valid email address: %(reason)s"), field=field,
                                 reason=str(error)) from None
        if len(email) > MAX_EMAIL_LENGTH:  # normalizing can lengthen (IDNA, Unicode forms)
            raise InvalidRequest(N_("Enter a valid email address."), field=field)
    return email


_C = CONTROL_CHARACTER_CLASS
EMAIL_PATTERN = f"^ *[^{_C}@ ][^{_C}]*@[^{_C}]*[^{_C}@ ] *$"  # spaces around it are trimmed

"""The full email address check, given to the domain's rule (which may not import the library)."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def checked_address(address: str) -> str:
    """The normalized address (domain lower-cased, IDNA and Unicode forms settled), or ValueError.
    No DNS look-up: a request must not wait on it, and a mistyped domain fails at sending anyway.
    ``test_environment`` admits the reserved ``.test`` names (RFC 6761), which reach no one."""
    try:
        return validate_email(address, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None

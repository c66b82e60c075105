"""Organizer accounts: creating them and checking passwords (no HTTP here)."""
from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, InvalidRequest
from ..extensions import db
from ..models import Organizer
from ..transactions import write_transaction

MIN_PASSWORD_LENGTH = 10
# Checked when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_organizer(email: str, password: str, name: str = "") -> Organizer:
    email = normalize_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise InvalidRequest("Enter a valid email address.", field="email")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    with write_transaction():
        if db.session.scalar(select(Organizer.id).where(func.lower(Organizer.email) == email)):
            raise Conflict("An account with this email already exists.", field="email")
        organizer = Organizer(email=email, name=(name or "").strip()[:200],
                              password_hash=generate_password_hash(password))
        db.session.add(organizer)
    return organizer


def authenticate(email: str, password: str) -> Organizer | None:
    """The organizer whose email and password match, else None (never says which was wrong)."""
    organizer = db.session.scalar(select(Organizer).where(func.lower(Organizer.email) == normalize_email(email)))
    if organizer is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return organizer if check_password_hash(organizer.password_hash, password or "") else None

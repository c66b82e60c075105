"""Organizer accounts: creating them, checking passwords, API tokens (no HTTP here).

API tokens: only their sha256 is stored; the token is shown once.
"""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain import rules
from ..domain.errors import Conflict, InvalidRequest, NotFound
from ..domain.models import Organizer
from ..infra.db import db
from ..infra.transactions import write_transaction

MIN_PASSWORD_LENGTH = 10
# Checked when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def create_organizer(email: str, password: str, name: str = "") -> Organizer:
    email = rules.email_address(rules.normalize_email(email))
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
    organizer = db.session.scalar(select(Organizer).where(func.lower(Organizer.email) == rules.normalize_email(email)))
    if organizer is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return organizer if check_password_hash(organizer.password_hash, password or "") else None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate_api_token(email: str) -> str:
    """Give the organizer ``email`` a new API token (the old one stops working) and return it."""
    with write_transaction():
        organizer = db.session.scalar(select(Organizer).where(
            func.lower(Organizer.email) == rules.normalize_email(email)).with_for_update())
        if organizer is None:
            raise NotFound(f"no organizer with email '{email}'")
        token = secrets.token_urlsafe(32)
        organizer.api_token_hash = token_hash(token)
    return token


def organizer_by_api_token(token: str) -> Organizer | None:
    return db.session.scalar(select(Organizer).where(Organizer.api_token_hash == token_hash(token))) if token else None

"""Organizer accounts: creating them, checking passwords, API tokens (no HTTP here).

API tokens: only their sha256 is stored; the token is shown once.
"""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..domain import rules
from ..domain.errors import N_, Conflict, InvalidRequest, NotFound
from ..domain.models import ObligationKind, Organizer
from ..domain.obligations import promise_message
from ..infra.db import db
from ..infra.transactions import write_transaction

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# zxcvbn's 0..4: 3 is "safely unguessable" (about 10^8 guesses and up), what an online
# attacker past the login limits cannot reach.
MIN_PASSWORD_SCORE = 3
# zxcvbn's time grows with the length; past this many characters a password is long enough
# that scoring its start says enough.
_SCORED_LENGTH = 72
# Checked when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def check_password(password: str, *, email: str, name: str = "") -> None:
    """Refuse (InvalidRequest on "password") a password that is short or easy to guess, with
    zxcvbn's own advice; the email and name count as guessable words."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(N_("Choose a password of at least %(least)s characters."), field="password",
                             least=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidRequest(N_("Choose a password of at most %(most)s characters."), field="password",
                             most=MAX_PASSWORD_LENGTH)
    words = [word for word in (email, email.split("@")[0], *name.split()) if word]
    verdict = zxcvbn(password[:_SCORED_LENGTH], user_inputs=words)
    if verdict["score"] < MIN_PASSWORD_SCORE:
        feedback = verdict["feedback"]
        advice = [feedback["warning"], *feedback["suggestions"]] if feedback["warning"] else feedback["suggestions"]
        if not advice:
            raise InvalidRequest(N_("This password is easy to guess."), field="password")
        # zxcvbn's advice is English only.
        raise InvalidRequest(N_("This password is easy to guess. %(advice)s"), field="password",
                             advice=" ".join(advice))


def _by_email(email: str, *, lock: bool = False) -> Organizer | None:
    query = select(Organizer).where(func.lower(Organizer.email) == rules.normalize_email(email))
    return db.session.scalar(query.with_for_update() if lock else query)


def _new_organizer(email: str, password: str, name: str) -> Organizer:
    """An organizer (not yet added) after the address and password rules; raises InvalidRequest."""
    email = rules.email_address(rules.normalize_email(email))
    name = (name or "").strip()[:200]
    check_password(password, email=email, name=name)
    return Organizer(email=email, name=name, password_hash=generate_password_hash(password))


def create_organizer(email: str, password: str, name: str = "") -> Organizer:
    """An operator's `flask organizer create`: says so if the address already has an account."""
    organizer = _new_organizer(email, password, name)
    with write_transaction():
        if _by_email(organizer.email) is not None:
            raise Conflict(N_("An account with this email already exists."), field="email")
        db.session.add(organizer)
    return organizer


def sign_up(email: str, password: str, name: str = "", *, language: str = "en") -> None:
    """Sign-up from the dashboard. The caller answers the same whether or not the address has
    an account (no list of organizers to be had from it); the address's owner is told by email:
    a new account is ready, or someone tried to sign up with an address that has one.
    Raises InvalidRequest for a bad address or password (the same rules either way)."""
    organizer = _new_organizer(email, password, name)  # hashed either way: the same time either way
    try:
        with write_transaction():
            exists = _by_email(organizer.email) is not None
            if not exists:
                db.session.add(organizer)
                db.session.flush()  # a concurrent sign-up of the address fails here, not at commit
            kind = ObligationKind.EMAIL_SIGNUP_EXISTING if exists else ObligationKind.EMAIL_SIGNUP_WELCOME
            promise_message(db.session, organizer.email, kind, language=language)
    except IntegrityError:  # the same address signed up at the same moment: it exists now
        with write_transaction():
            promise_message(db.session, organizer.email, ObligationKind.EMAIL_SIGNUP_EXISTING, language=language)


def authenticate(email: str, password: str) -> Organizer | None:
    """The organizer whose email and password match, else None (never says which was wrong)."""
    organizer = _by_email(email)
    if organizer is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return organizer if check_password_hash(organizer.password_hash, password or "") else None


def end_sessions(organizer_id: int) -> Organizer:
    """Sign the organizer out everywhere: every session signed in before stops working."""
    with write_transaction():
        organizer = db.session.scalar(select(Organizer).where(Organizer.id == organizer_id).with_for_update())
        if organizer is None:
            raise NotFound(N_("no such organizer"))
        organizer.session_version += 1
    return organizer


def change_password(organizer_id: int, current: str, new: str) -> Organizer:
    """Set a new password (the current one must match) and end every earlier session."""
    with write_transaction():
        organizer = db.session.scalar(select(Organizer).where(Organizer.id == organizer_id).with_for_update())
        if organizer is None:
            raise NotFound(N_("no such organizer"))
        if not check_password_hash(organizer.password_hash, current or ""):
            raise InvalidRequest(N_("Your current password is not this one."), field="current_password")
        check_password(new, email=organizer.email, name=organizer.name)
        organizer.password_hash = generate_password_hash(new)
        organizer.session_version += 1
    return organizer


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate_api_token(email: str) -> str:
    """Give the organizer ``email`` a new API token (the old one stops working) and return it."""
    with write_transaction():
        organizer = _by_email(email, lock=True)
        if organizer is None:
            raise NotFound(N_("no organizer with email '%(email)s'"), email=email)
        token = secrets.token_urlsafe(32)
        organizer.api_token_hash = token_hash(token)
    return token


def organizer_by_api_token(token: str) -> Organizer | None:
    return db.session.scalar(select(Organizer).where(Organizer.api_token_hash == token_hash(token))) if token else None

"""Sign-in plumbing: Flask-Login for sessions (created per app, like the limiter),
the app's rate limiter against password guessing.

A session lives in the signed cookie, so the server ends it by refusing it: the
session's id is ``"<organizer id>:<session version>"``, and the organizer's
``session_version`` moves on at logout and at a password change, after which every
cookie signed in before (every device, every copy) names an old version and is
sent to the login form. A session also ends ``PERMANENT_SESSION_LIFETIME`` after
signing in, by the app's clock (the cookie's own expiry is the browser's side).
"""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, request, session
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from ...domain import rules
from ...domain.clock import now
from ...domain.errors import N_
from ...domain.models import Organizer
from ...infra.db import db
from ..ratelimit import limiter

LOGIN_LIMIT = "10 per minute"
# Per account, whichever addresses the guesses come from: a botnet gets no more tries than one
# client, and the owner is locked out for an hour at most.
LOGIN_ACCOUNT_LIMIT = "10 per minute;50 per hour"
_SIGNED_IN_AT = "signed_in_at"


class SignedIn(UserMixin):
    """The signed-in organizer as Flask-Login sees it; ``id`` is the organizer id."""

    def __init__(self, organizer: Organizer):
        self.id = organizer.id
        self.email = organizer.email
        self.session_version = organizer.session_version

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])


def sign_in(organizer: Organizer) -> None:
    """A fresh, permanent session (no fixation) for ``organizer``'s current session version."""
    session.clear()
    session.permanent = True  # the cookie lasts PERMANENT_SESSION_LIFETIME, not until the browser closes
    session[_SIGNED_IN_AT] = now().timestamp()
    login_user(SignedIn(organizer))


def _still_valid(organizer: Organizer | None, version: str) -> bool:
    if organizer is None or version != str(organizer.session_version):
        return False  # signed out (or password changed) since this cookie was made
    signed_in_at = session.get(_SIGNED_IN_AT)
    if not isinstance(signed_in_at, int | float):
        return False
    age = now() - datetime.fromtimestamp(signed_in_at, now().tzinfo)
    return age < current_app.permanent_session_lifetime


def init_app(app: Flask) -> None:
    login = LoginManager()
    login.login_view = "dashboard.login"
    login.login_message = N_("Please log in to see your events.")
    login.localize_callback = gettext  # flashed in the reader's language
    login.session_protection = "basic"  # "strong" would sign out phones that change network

    @login.user_loader
    def load(session_id: str):
        organizer_id, _, version = session_id.partition(":")
        organizer = db.session.get(Organizer, int(organizer_id)) if organizer_id.isdigit() else None
        return SignedIn(organizer) if _still_valid(organizer, version) else None

    login.init_app(app)


def login_attempt_limit():
    """Context manager counting one sign-in attempt from this address; raises 429 past the limit."""
    return limiter().limit(LOGIN_LIMIT, scope="dashboard-login")


def account_attempt_limit():
    """Context manager counting one sign-in attempt at the account named in the form (its
    normalized email, known or not, so the answer says nothing about which exist)."""
    email = rules.normalize_email(request.form.get("email"))[:254]
    return limiter().limit(LOGIN_ACCOUNT_LIMIT, key_func=lambda: email, scope="dashboard-login-account")

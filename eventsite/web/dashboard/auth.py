"""Sign-in plumbing: Flask-Login for sessions (created per app, like the limiter),
the app's rate limiter against password guessing."""
from __future__ import annotations

from flask import Flask
from flask_login import LoginManager, UserMixin

from ...domain.models import Organizer
from ...infra.db import db
from ..ratelimit import limiter

LOGIN_LIMIT = "10 per minute"


class SignedIn(UserMixin):
    """The signed-in organizer as Flask-Login sees it; ``id`` is the organizer id."""

    def __init__(self, organizer: Organizer):
        self.id = organizer.id
        self.email = organizer.email


def init_app(app: Flask) -> None:
    login = LoginManager()
    login.login_view = "dashboard.login"
    login.login_message = "Please log in to see your events."
    login.session_protection = "basic"  # "strong" would sign out phones that change network

    @login.user_loader
    def load(organizer_id: str):
        organizer = db.session.get(Organizer, int(organizer_id)) if organizer_id.isdigit() else None
        return SignedIn(organizer) if organizer else None

    login.init_app(app)


def login_attempt_limit():
    """Context manager counting one sign-in attempt from this address; raises 429 past the limit."""
    return limiter().limit(LOGIN_LIMIT, scope="dashboard-login")

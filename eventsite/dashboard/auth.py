"""Sign-in plumbing: Flask-Login for sessions, Flask-Limiter against password guessing.

Both are created per app (not module singletons) so a test app with rate limits
enabled cannot switch them on for another app in the same process.
"""
from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin

from ..extensions import db
from ..models import Organizer

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
    # Redis shared by all web processes; if it is down, count in memory rather than lock organizers out.
    app.extensions["dashboard_limiter"] = Limiter(
        get_remote_address, storage_uri=app.config["REDIS_URL"], key_prefix="dashboard",
        in_memory_fallback_enabled=True, enabled=app.config.get("RATELIMIT_ENABLED", True),
    )
    app.extensions["dashboard_limiter"].init_app(app)


def login_attempt_limit():
    """Context manager counting one sign-in attempt from this address; raises 429 past the limit."""
    return current_app.extensions["dashboard_limiter"].limit(LOGIN_LIMIT, scope="dashboard-login")

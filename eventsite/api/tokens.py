"""Per-organizer API tokens: only their sha256 is stored; the token is shown once.

`flask organizer api-token EMAIL` creates or rotates one (the old one stops working).
"""
from __future__ import annotations

import hashlib
import secrets
import sys

import click
from flask import Flask, request
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from ..extensions import db
from ..models import Organizer


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate(organizer: Organizer) -> str:
    """Give ``organizer`` a new token (caller commits) and return it."""
    token = secrets.token_urlsafe(32)
    organizer.api_token_hash = token_hash(token)
    return token


def authenticated_organizer() -> Organizer:
    """The organizer whose token is in `Authorization: Bearer ...`, or 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    organizer = None
    if scheme.lower() == "bearer" and token:
        organizer = db.session.scalar(select(Organizer).where(Organizer.api_token_hash == token_hash(token)))
    if organizer is None:
        raise Unauthorized("Send a valid organizer API token as `Authorization: Bearer <token>`.",
                           www_authenticate=WWWAuthenticate("bearer", {"realm": "eventsite"}))
    return organizer


@click.command("api-token")
@click.argument("email")
@with_appcontext
def api_token_command(email: str) -> None:
    """Create or rotate the API token of organizer EMAIL and print it (shown only once)."""
    organizer = db.session.scalar(select(Organizer).where(func.lower(Organizer.email) == email.strip().lower()))
    if organizer is None:
        click.echo(f"error: no organizer with email '{email}'", err=True)
        sys.exit(2)
    token = rotate(organizer)
    db.session.commit()
    click.echo(token)


def register_cli(app: Flask) -> None:
    # Another area may already own `flask organizer`; join its group rather than replace it.
    group = app.cli.commands.get("organizer")
    if group is None:
        group = AppGroup("organizer", help="Organizer accounts.")
        app.cli.add_command(group)
    group.add_command(api_token_command)

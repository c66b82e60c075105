"""`flask organizer create EMAIL`: an account for an organizer, made by an operator."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..errors import DomainError
from .accounts import create_organizer

organizer = AppGroup("organizer", help="Organizer accounts.")


@organizer.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--password", envvar="ORGANIZER_PASSWORD", prompt=True, hide_input=True,
              confirmation_prompt=True, help="Read from ORGANIZER_PASSWORD or prompted if not given.")
def create(email: str, name: str, password: str) -> None:
    """Create an organizer account that can log in to /dashboard."""
    try:
        account = create_organizer(email, password, name)
    except DomainError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(2)
    click.echo(f"Created organizer {account.email} (id {account.id}).")

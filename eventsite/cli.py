"""Operator commands (`flask --app app ...`): demo data, availability, jobs, organizers.

Each exits non-zero with one line on stderr when refused, and changes nothing then.
"""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .domain.clock import now
from .domain.errors import DomainError, NotFound
from .infra import queue
from .readmodels import availability
from .readmodels.lookups import event_by_slug
from .services import accounts, demo, expiry

demo_cli = AppGroup("demo", help="Demo data for trying the shop.")
inventory_cli = AppGroup("inventory", help="Inspect ticket availability.")
jobs_cli = AppGroup("jobs", help="Background jobs: the expiry sweep.")
organizer_cli = AppGroup("organizer", help="Organizer accounts.")


def _refuse(message: str, code: int = 2):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@demo_cli.command("load")
def demo_load() -> None:
    """Create the demo organizer and a published event with two ticket types (idempotent)."""
    loaded = demo.load(current_app.config["HOLD_MINUTES_DEFAULT"])
    click.echo(f"Loaded demo event '{demo.DEMO_SLUG}'." if loaded else f"Demo event '{demo.DEMO_SLUG}' already loaded.")
    click.echo(f"Organizer login: {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}")


@inventory_cli.command("show")
@click.argument("slug")
def inventory_show(slug: str) -> None:
    """Print capacity, sold, held and available per ticket type of event SLUG."""
    try:
        event = event_by_slug(slug)
    except NotFound:
        _refuse(f"no event with slug '{slug}'")
    figures = availability.figures(event.id)
    click.echo(f"{event.title} ({event.slug})")
    click.echo(f"{'ticket type':<24} {'capacity':>8} {'sold':>6} {'held':>6} {'available':>9}  next release")
    for tt in event.ticket_types:
        f = figures[tt.id]
        release = f.next_release_at.isoformat(timespec="seconds") if f.next_release_at else "-"
        click.echo(f"{tt.name[:24]:<24} {f.capacity:>8} {f.sold:>6} {f.held:>6} {f.available:>9}  {release}")


@jobs_cli.command("sweep")
def sweep_command() -> None:
    """Expire every lapsed hold now (what the scheduler runs periodically)."""
    click.echo(f"Expired {expiry.sweep()} lapsed holds.")


@jobs_cli.command("scheduler")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between passes.")
def scheduler_command(interval: float) -> None:
    """Run the scheduler (rq-scheduler's, one active by lock) that starts the periodic sweep,
    registering the sweep again on any pass that finds it missing."""
    queue.run_scheduler(interval, expiry.ensure_sweep)


@jobs_cli.command("schedule")
def schedule_command() -> None:
    """Register the periodic sweep with rq-scheduler (safe to run again)."""
    interval = current_app.config["SWEEP_INTERVAL_SECONDS"]
    queue.register_sweep(interval, now())
    click.echo(f"Sweep scheduled every {interval} s.")


@organizer_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--password", envvar="ORGANIZER_PASSWORD", prompt=True, hide_input=True,
              confirmation_prompt=True, help="Read from ORGANIZER_PASSWORD or prompted if not given.")
def organizer_create(email: str, name: str, password: str) -> None:
    """Create an organizer account that can log in to /dashboard."""
    try:
        account = accounts.create_organizer(email, password, name)
    except DomainError as error:
        _refuse(error.message)
    click.echo(f"Created organizer {account.email} (id {account.id}).")


@organizer_cli.command("api-token")
@click.argument("email")
def organizer_api_token(email: str) -> None:
    """Create or rotate the API token of organizer EMAIL and print it (shown only once)."""
    try:
        click.echo(accounts.rotate_api_token(email))
    except DomainError as error:
        _refuse(error.message)


def register(app: Flask) -> None:
    for group in (demo_cli, inventory_cli, jobs_cli, organizer_cli):
        app.cli.add_command(group)

"""Operator commands: `flask demo load`, `flask inventory show SLUG`."""
from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from . import inventory
from .clock import now
from .extensions import db
from .models import Event, Organizer, TicketType

demo = AppGroup("demo", help="Demo data for trying the shop.")
inventory_cli = AppGroup("inventory", help="Inspect ticket availability.")

DEMO_EMAIL = "demo@eventsite.test"
DEMO_PASSWORD = "demo-password"
DEMO_SLUG = "demo-night"


@demo.command("load")
def demo_load() -> None:
    """Create the demo organizer and a published event with two ticket types (idempotent)."""
    if db.session.scalar(select(Event).where(Event.slug == DEMO_SLUG)):
        click.echo(f"Demo event '{DEMO_SLUG}' already loaded.")
    else:
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == DEMO_EMAIL)) or Organizer(
            email=DEMO_EMAIL, name="Demo Organizer", password_hash=generate_password_hash(DEMO_PASSWORD)
        )
        starts = (now() + timedelta(days=30)).replace(hour=19, minute=0, second=0, microsecond=0)
        event = Event(
            organizer=organizer, slug=DEMO_SLUG, title="Demo Night: The Honest Holds",
            description="A small club show with very few tickets. Reserve one and watch the countdown.",
            venue="The Basement, Berlin", timezone="Europe/Berlin", starts_at=starts,
            ends_at=starts + timedelta(hours=4), hold_minutes=15, published=True,
            ticket_types=[
                TicketType(name="General admission", price=2500, currency="EUR", capacity=20, per_order_limit=4),
                TicketType(name="VIP", price=7500, currency="EUR", capacity=3, per_order_limit=2),
            ],
        )
        db.session.add(event)
        db.session.commit()
        click.echo(f"Loaded demo event '{DEMO_SLUG}'.")
    click.echo(f"Organizer login: {DEMO_EMAIL} / {DEMO_PASSWORD}")


@inventory_cli.command("show")
@click.argument("slug")
def inventory_show(slug: str) -> None:
    """Print capacity, sold, held and available per ticket type of event SLUG."""
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        click.echo(f"error: no event with slug '{slug}'", err=True)
        sys.exit(2)
    figures = inventory.availability(event.id)
    click.echo(f"{event.title} ({event.slug})")
    header = f"{'ticket type':<24} {'capacity':>8} {'sold':>6} {'held':>6} {'available':>9}  next release"
    click.echo(header)
    for tt in event.ticket_types:
        f = figures[tt.id]
        release = f.next_release_at.isoformat(timespec="seconds") if f.next_release_at else "-"
        click.echo(f"{tt.name[:24]:<24} {f.capacity:>8} {f.sold:>6} {f.held:>6} {f.available:>9}  {release}")


def register(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(inventory_cli)

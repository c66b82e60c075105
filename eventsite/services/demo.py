"""The demo organizer and event that `make run` loads (idempotent)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..domain.clock import now
from ..domain.models import Event, Organizer, TicketType
from ..infra.db import db
from ..infra.transactions import write_transaction

DEMO_EMAIL = "demo@eventsite.test"
DEMO_PASSWORD = "demo-password"
DEMO_SLUG = "demo-night"


def load(hold_minutes: int) -> bool:
    """Create the demo organizer and a published event with two ticket types;
    False if it was loaded already."""
    with write_transaction():
        if db.session.scalar(select(Event.id).where(Event.slug == DEMO_SLUG)):
            return False
        organizer = db.session.scalar(select(Organizer).where(Organizer.email == DEMO_EMAIL)) or Organizer(
            email=DEMO_EMAIL, name="Demo Organizer", password_hash=generate_password_hash(DEMO_PASSWORD)
        )
        starts = (now() + timedelta(days=30)).replace(hour=19, minute=0, second=0, microsecond=0)
        db.session.add(Event(
            organizer=organizer, slug=DEMO_SLUG, title="Demo Night: The Honest Holds",
            description="A small club show with very few tickets. Reserve one and watch the countdown.",
            venue="The Basement, Berlin", timezone="Europe/Berlin", currency="EUR", starts_at=starts,
            ends_at=starts + timedelta(hours=4), hold_minutes=hold_minutes, published=True,
            ticket_types=[
                TicketType(name="General admission", price=2500, capacity=20, per_order_limit=4),
                TicketType(name="VIP", price=7500, capacity=3, per_order_limit=2),
            ],
        ))
    return True

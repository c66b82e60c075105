"""What a transaction changed that readers outside it may have copies of.

The domain only notes which events' availability a transaction changes (in
the session's ``info``); the transaction layer hands the set to its
after-commit hooks (the availability cache bumps those events' generations)
and drops it on rollback. Nothing here talks to Redis.
"""
from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .models import Event, TicketType

_CHANGED = "eventsite.changed_events"


def note_event_changed(session: Session, event_id: int) -> None:
    session.info.setdefault(_CHANGED, set()).add(event_id)


def take_changed_events(session: Session) -> set[int]:
    """The event ids noted since the last call (and forget them)."""
    return session.info.pop(_CHANGED, None) or set()


@sa_event.listens_for(Session, "after_flush")
def _catalog_edits(session: Session, _context) -> None:
    """Ticket types and events edited through the ORM (the dashboard)."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, TicketType) and obj.event_id is not None:
            note_event_changed(session, obj.event_id)
        elif isinstance(obj, Event) and obj.id is not None:
            note_event_changed(session, obj.id)

"""What a transaction changed that readers outside it may have copies of.

The domain only notes which events' availability a transaction changes (in
the session's ``info``); the transaction layer hands the set to its
after-commit hooks (the availability cache bumps those events' generations)
and drops it on rollback. Nothing here talks to Redis.
"""
from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from .models import Event, TicketType, WaitingRoom, WaitlistEntry

_CHANGED = "eventsite.changed_events"
_FREED = "eventsite.freed_ticket_types"


def note_event_changed(session: Session, event_id: int) -> None:
    session.info.setdefault(_CHANGED, set()).add(event_id)


def take_changed_events(session: Session) -> set[int]:
    """The event ids noted since the last call (and forget them)."""
    return session.info.pop(_CHANGED, None) or set()


def note_tickets_freed(session: Session, ticket_type_ids) -> None:
    """Tickets of these types came back (a hold ended, a refund, more capacity): the
    waiting list, if any, is offered them after the commit."""
    session.info.setdefault(_FREED, set()).update(ticket_type_ids)


def take_freed_ticket_types(session: Session) -> set[int]:
    return session.info.pop(_FREED, None) or set()


@sa_event.listens_for(Session, "after_flush")
def _catalog_edits(session: Session, _context) -> None:
    """Ticket types and events edited through the ORM (the dashboard), waiting lists and rooms."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, TicketType | WaitlistEntry | WaitingRoom) and obj.event_id is not None:
            note_event_changed(session, obj.event_id)
            if obj in session.dirty and isinstance(obj, TicketType) and inspect(obj).attrs.capacity.history.deleted:
                note_tickets_freed(session, [obj.id])  # its capacity changed: maybe more for the line
        elif isinstance(obj, Event) and obj.id is not None:
            note_event_changed(session, obj.id)

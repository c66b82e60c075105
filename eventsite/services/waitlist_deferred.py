"""The waiting-list places a waiting room deferred, and prompting a line's serve.

A place asked for while the room guards the sale waits as DEFERRED (``domain.waitlist``). The room
calls ``activate_deferred`` once it has committed its closing; the sweep (through
``waitlist.serve_all``) activates whatever a crash between the two left deferred, so the closing is
the record of the work. Kept apart from ``waitlist`` because the room calls it, and ``waitlist``
places holds through ``reserving``, which asks the room for admissions: no import circle.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import exists, func, or_, select, update

from ..domain import locks, waitlist
from ..domain.changes import note_event_changed
from ..domain.clock import now
from ..domain.models import ObligationKind, TicketType, WaitingRoom, WaitlistEntry, WaitlistStatus
from ..domain.obligations import promise_about_entry
from ..infra import queue
from ..infra.db import db
from ..infra.transactions import write_transaction

log = logging.getLogger(__name__)
SERVE_TASK = "eventsite.tasks.serve_waitlist"


def activate_deferred(event_id: int, reason: str, at: datetime | None = None) -> int:
    """The waiting room of ``event_id`` closed for ``reason``: its deferred places join their lines in
    the order they asked (sold out), or end and are told by email (sales ended); then the lines are
    served. Idempotent: a place is deferred only once. How many places changed."""
    at = at or now()
    with write_transaction():
        ticket_type_ids = db.session.scalars(select(TicketType.id).where(TicketType.event_id == event_id)).all()
        locks.ticket_types(db.session, ticket_type_ids)  # no join or serve of these lines meanwhile
        deferred = locks.deferred_places(db.session, ticket_type_ids)
        changed = waitlist.activation(deferred, _in_line(event_id) if deferred else [], reason)
        for status in (WaitlistStatus.WAITING, WaitlistStatus.CLOSED):  # a statement each, not one per place
            if ids := [entry.id for entry, becomes in changed if becomes == status]:
                db.session.execute(update(WaitlistEntry).where(WaitlistEntry.id.in_(ids))
                                   .values(status=status, updated_at=at))
        if reason == waitlist.SALES_ENDED:
            for entry, _ in changed:
                promise_about_entry(db.session, entry, ObligationKind.EMAIL_WAITLIST_CLOSED)
        if changed:
            note_event_changed(db.session, event_id)  # who waits is part of the public's figures
        joined = {entry.ticket_type_id for entry, becomes in changed if becomes == WaitlistStatus.WAITING}
    if changed:
        log.info("waiting room of event %s closed (%s): %d deferred places changed", event_id, reason, len(changed))
        prompt(joined)
    return len(changed)


def activate_closed_rooms(event_id: int | None = None) -> int:
    """Activate the deferred places of every closed (or switched off) room that still has some (of ``event_id``'s
    only, if given): the sweep's share, and a join that raced its room's closing."""
    # A room switched off no longer stands in front of the sale: its deferred places join their lines.
    query = select(WaitingRoom.event_id, func.coalesce(WaitingRoom.closed_reason, waitlist.SOLD_OUT)).where(
        or_(WaitingRoom.closed_at.is_not(None), WaitingRoom.enabled.is_(False)),
        exists().where(WaitlistEntry.event_id == WaitingRoom.event_id, WaitlistEntry.status == WaitlistStatus.DEFERRED))
    if event_id is not None:
        query = query.where(WaitingRoom.event_id == event_id)
    rooms = db.session.execute(query).all()
    db.session.rollback()
    return sum(activate_deferred(room_event_id, reason) for room_event_id, reason in rooms)


def _in_line(event_id: int) -> list[tuple[int, str]]:
    """(ticket type id, email) of every place waiting in the event's lines."""
    return [tuple(row) for row in db.session.execute(select(WaitlistEntry.ticket_type_id, WaitlistEntry.email).where(
        WaitlistEntry.event_id == event_id, WaitlistEntry.status == WaitlistStatus.WAITING))]


def prompt(ticket_type_ids: Iterable[int]) -> None:
    """Have a worker offer these ticket types to their lines now; without Redis the sweep does."""
    for tt_id in sorted(set(ticket_type_ids)):
        queue.enqueue(SERVE_TASK, tt_id, inline=False)

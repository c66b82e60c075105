"""What the door and the dashboard show of check-ins: how many are in per ticket type,
the latest scans, and the check-in in force of each seat (for the attendee CSV)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..domain.errors import N_, NotFound
from ..domain.models import CheckIn, Event
from ..infra.db import db

RECENT = 20

_IN_FORCE = CheckIn.undone_at.is_(None)


@dataclass(frozen=True)
class TypeCount:
    name: str
    checked_in: int
    sold: int


def checked_in_by_type(event_id: int) -> dict[int, int]:
    """{ticket type id: seats checked in now} (undone check-ins do not count)."""
    return {type_id: count for type_id, count in db.session.execute(
        select(CheckIn.ticket_type_id, func.count()).where(CheckIn.event_id == event_id, _IN_FORCE)
        .group_by(CheckIn.ticket_type_id))}


def counts(event: Event) -> tuple[list[TypeCount], TypeCount]:
    """Per ticket type (sold: confirmed tickets, the state machine's counter) and the total."""
    inside = checked_in_by_type(event.id)
    rows = [TypeCount(tt.name, inside.get(tt.id, 0), tt.sold) for tt in event.ticket_types]
    return rows, TypeCount("Total", sum(r.checked_in for r in rows), sum(r.sold for r in rows))


def recent(event_id: int, limit: int = RECENT) -> list[CheckIn]:
    """The latest check-ins of the event, newest first, undone ones included (marked)."""
    return list(db.session.scalars(
        select(CheckIn).where(CheckIn.event_id == event_id).options(joinedload(CheckIn.ticket_type))
        .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(limit)))


def owned_checkin(event: Event, checkin_id: int) -> CheckIn:
    """A check-in of this event; any other id looks exactly like a missing one."""
    found = db.session.scalar(select(CheckIn).where(CheckIn.id == checkin_id, CheckIn.event_id == event.id))
    if found is None:
        raise NotFound(N_("There is no such check-in."))
    return found


def in_force(order_ids: Iterable[int]) -> dict[tuple[int, int], tuple[datetime, str]]:
    """{(order id, seat): (when, device)} of the seats of these orders that are checked in."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = db.session.execute(select(CheckIn.order_id, CheckIn.seat, CheckIn.at, CheckIn.device)
                              .where(CheckIn.order_id.in_(ids), _IN_FORCE))
    return {(order_id, seat): (at, device) for order_id, seat, at, device in rows}


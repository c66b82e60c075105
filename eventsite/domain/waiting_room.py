"""The waiting room's rules, without I/O: when a room guards an event, the published draw,
signed places and admissions, and how many to admit.

**The draw.** Everyone who joined before the on-sale instant holds a place number 1..K (numbers
are given in arrival order, and the first arrival at or after the instant fixes K). At the instant
they are put in the order of ``HMAC-SHA256(key=seed, message=str(place number))`` as lower-case hex,
ascending; later arrivals queue behind in arrival order. The room shows the SHA-256 of the seed
(hex text, ASCII) before the instant and the seed after it, so anyone can recompute the order.

**Admission** follows the stock: places are admitted in queue order while the admitted who have
not placed a hold yet stay within ``stock_multiple`` times what can still be bought (available
tickets plus holds lapsing within an admission's lifetime, less what the waiting list is owed),
and at most ``ceil(admissions_per_minute / 60)`` per second. An admission is signed, names its
place and event, and may place one hold until it lapses; unused, it stops counting, so the next
place is admitted in its stead.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import N_, AdmissionRefused, AdmissionRequired
from .models import TicketType, WaitingRoom

ROOM_REQUIRED = N_("Tickets for this event are sold through its waiting room: join the room, and reserve when it "
                    "is your turn.")
NOT_GIVEN_OUT = N_("That admission is not one this shop gave out; join the waiting room.")


def new_seed() -> str:
    return secrets.token_hex(32)


def seed_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def draw_key(seed: str, place: int) -> str:
    return hmac.new(seed.encode("ascii"), str(place).encode("ascii"), hashlib.sha256).hexdigest()


def drawn_order(seed: str, places: Iterable[int]) -> list[int]:
    """The published rule: places joined before the instant, ordered by their HMAC under the seed."""
    return sorted(places, key=lambda place: draw_key(seed, place))


@dataclass(frozen=True)
class Schedule:
    on_sale: datetime  # the earliest sales start: the draw's instant
    opens_at: datetime  # when the room starts taking places

    def drawn_at(self, at: datetime) -> bool:
        return at >= self.on_sale


def schedule(room: WaitingRoom | None, ticket_types: Iterable[TicketType]) -> Schedule | None:
    """When an enabled room opens and draws; None without a room or without a sales start."""
    starts = [tt.sales_start for tt in ticket_types if tt.sales_start is not None]
    if room is None or not room.enabled or not starts:
        return None
    on_sale = min(starts)
    return Schedule(on_sale, on_sale - timedelta(minutes=room.opens_minutes_before))


def guarding(room: WaitingRoom | None, ticket_types: Iterable[TicketType], at: datetime) -> bool:
    """Does the room stand in front of reserving at ``at``? From its opening until it closes."""
    when = schedule(room, ticket_types)
    return when is not None and room.closed_at is None and at >= when.opens_at


# --- signed places and admissions ---------------------------------------------------

def _sign(key: bytes, *parts: object) -> str:
    return hmac.new(key, ":".join(map(str, parts)).encode(), hashlib.sha256).hexdigest()[:32]


def _genuine(signature: str, key: bytes, *parts: object) -> bool:
    # Compared as bytes: compare_digest refuses str with non-ASCII text, which a forged token may carry.
    return hmac.compare_digest(signature.encode(), _sign(key, *parts).encode())


def place_token(key: bytes, event_id: int, place: int) -> str:
    """The key to a place in the room (cookie, API): unguessable without the installation's secret."""
    return f"{event_id}.{place}.{_sign(key, 'place', event_id, place)}"


def read_place_token(key: bytes, token: str, event_id: int | None = None) -> tuple[int, int] | None:
    """(event id, place) of a genuine place token, else None."""
    try:
        event_text, place_text, signature = token.split(".")
        event, place = int(event_text), int(place_text)
    except (AttributeError, ValueError):
        return None
    if (event_id is not None and event != event_id) or not _genuine(signature, key, "place", event, place):
        return None
    return event, place


def admission_until(admitted_at: datetime, minutes: int) -> datetime:
    """When an admission given at ``admitted_at`` lapses: in whole seconds, as its signed token
    carries it, so the room, the token and the count of open admissions agree to the instant."""
    return (admitted_at + timedelta(minutes=minutes)).replace(microsecond=0)


def admission_token(key: bytes, event_id: int, place: int, valid_until: datetime) -> str:
    until = int(valid_until.timestamp())
    return f"{event_id}.{place}.{until}.{_sign(key, 'admission', event_id, place, until)}"


@dataclass(frozen=True)
class Admission:
    event_id: int
    place: int
    valid_until: datetime


def read_admission(key: bytes, token: str | None, event_id: int, at: datetime) -> Admission:
    """The admission ``token`` grants for ``event_id`` at ``at``, or AdmissionRequired/Refused.
    Whether it was used already is the database's to say (one hold per admitted place)."""
    if not token:
        raise AdmissionRequired(ROOM_REQUIRED)
    try:
        event_text, place_text, until_text, signature = token.split(".")
        event, place, until = int(event_text), int(place_text), int(until_text)
    except (AttributeError, ValueError):
        raise AdmissionRefused(NOT_GIVEN_OUT) from None
    if not _genuine(signature, key, "admission", event, place, until):
        raise AdmissionRefused(NOT_GIVEN_OUT)
    if event != event_id:
        raise AdmissionRefused(N_("That admission is for another event; join this event's waiting room."))
    valid_until = datetime.fromtimestamp(until, UTC)
    if at >= valid_until:
        raise AdmissionRefused(N_("Your admission has lapsed: it was the next person's turn. "
                                  "Join the waiting room again."))
    return Admission(event, place, valid_until)


ADMISSION_USED = N_("This admission has already placed a hold; each admission places one. "
                    "Join the waiting room again.")


# --- how many to admit, and what the room says -----------------------------------------

def per_second(admissions_per_minute: int) -> int:
    return math.ceil(admissions_per_minute / 60)


def allowance(*, buyable: int, outstanding: int, stock_multiple: int, admissions_per_minute: int) -> int:
    """How many more places one tick (a second) admits: never past ``stock_multiple`` x what can be
    bought counting the admissions still open, nor past the ceiling's share of a second."""
    return max(0, min(stock_multiple * buyable - outstanding, per_second(admissions_per_minute)))


def buyable(available: int, lapsing_soon: int, waiting: int) -> int:
    """Tickets an admitted buyer may still get: available now, plus holds about to lapse that the
    waiting list is not owed."""
    return max(0, available + max(0, lapsing_soon - waiting))


def out_of_reach(ahead: int, left: int, may_come_back: int) -> bool:
    """Each person ahead wants one ticket at least: when they alone want all there is and all that
    may come back, this place will not get one (short of people leaving)."""
    return ahead > 0 and ahead >= left + may_come_back


def estimated_wait(ahead: int, admitted_last_minute: int, admissions_per_minute: int) -> timedelta:
    """At the pace of the last minute (the ceiling before anyone was admitted)."""
    pace = admitted_last_minute or admissions_per_minute
    return timedelta(seconds=math.ceil(60 * ahead / pace))

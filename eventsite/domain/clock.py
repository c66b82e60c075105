"""The one source of "now".

Every piece of code that needs the current time calls ``clock.now()``. Tests
(and the browser tests' live server, which shares the process) freeze or move
this clock instead of sleeping, so a 15-minute hold can lapse in a millisecond.
"""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """UTC wall clock with an optional frozen instant; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
        return datetime.now(UTC)

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop time at ``at`` (default: the current instant)."""
        at = at or datetime.now(UTC)
        if at.tzinfo is None:
            raise ValueError("clock instants must be timezone-aware")
        with self._lock:
            self._frozen = at.astimezone(UTC)
            return self._frozen

    def advance(self, delta: timedelta) -> datetime:
        """Move a frozen clock forward (freezing it first if it runs)."""
        with self._lock:
            base = self._frozen or datetime.now(UTC)
            self._frozen = base + delta
            return self._frozen

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen = None


clock = Clock()


def now() -> datetime:
    return clock.now()

"""Deterministic races: let another transaction run to its end at the exact moment this one
is about to send a given statement (no sleeps, no timing luck)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def before_statement(engine: Engine, matches: Callable[[str], bool], other: Callable[[], None]) -> Iterator[list]:
    """Inside the block, the first statement for which ``matches(sql)`` is true waits while
    ``other()`` runs whole in its own thread (its own connection). Yields a list that holds
    True once that happened, so a test can assert the race really took place."""
    raced: list[bool] = []

    def hook(_conn, _cursor, statement, *_):
        if not raced and matches(statement):
            raced.append(True)
            thread = threading.Thread(target=other)
            thread.start()
            thread.join()

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield raced
    finally:
        event.remove(engine, "before_cursor_execute", hook)

"""Short write transactions that behave the same on PostgreSQL and SQLite, with
a bounded wait for locks and hooks that run after commit.

PostgreSQL: row locks (``SELECT ... FOR UPDATE``) inside an ordinary
transaction whose ``lock_timeout`` is LOCK_TIMEOUT_SECONDS. SQLite has no row
locks and would fail a read transaction that later tries to write; there every
write transaction starts with ``BEGIN IMMEDIATE``, taking the database write
lock up front so concurrent writers queue (``busy_timeout``) instead of failing.
Either way a lock not granted in time raises ``Busy`` and changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app
from flask_sqlalchemy.session import Session as AppSession
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from .db import db

_IMMEDIATE = "eventsite_sqlite_immediate"
_OPEN = "eventsite_write_transaction_open"
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for lock_timeout
# A deadlock victim (two transactions locking rows in opposite orders, e.g. an organizer deleting a ticket
# type a buyer is reserving): PostgreSQL rolled it back, so like a lock timeout it changed nothing.
_DEADLOCK_DETECTED = "40P01"
RETRY_AFTER_SECONDS = 2


def N_(message: str) -> str:
    """Marks a message for the translation catalog, as ``domain.errors.N_`` (infra may not import the domain)."""
    return message


class Busy(Exception):
    """A lock was not granted within LOCK_TIMEOUT_SECONDS (or the transaction lost a deadlock); it was rolled back."""

    retry_after = RETRY_AFTER_SECONDS

    def __init__(self) -> None:
        super().__init__(N_("The shop is busy right now; nothing was changed. Please try again in a moment."))


def configure_sqlite(engine: Engine, lock_timeout_seconds: float) -> None:
    """Hand transaction control to SQLAlchemy so we can choose BEGIN IMMEDIATE."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_seconds * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_IMMEDIATE) else "BEGIN")


def _is_lock_timeout(error: OperationalError) -> bool:
    """A lock not granted: in time, or ever (a deadlock's victim); either way rolled back, so "try again"."""
    original = error.orig
    return (getattr(original, "sqlstate", None) in (_LOCK_NOT_AVAILABLE, _DEADLOCK_DETECTED)
            or "database is locked" in str(original))


@contextmanager
def write_transaction(*, expire_on_commit: bool = True) -> Iterator[None]:
    """Run the block in a fresh transaction that commits at the end or rolls back on error.

    Nested inside another write_transaction it joins the outer one, so a caller
    can make a domain step (say, confirming a payment) part of a larger unit
    (recording the webhook event that caused it) that commits or fails whole.

    ``expire_on_commit=False`` keeps what the block loaded and wrote as it was at
    the commit, sparing the reloads a caller would otherwise trigger by reading
    back the rows it just wrote (each a round trip).
    """
    session = db.session()  # the context-scoped Session itself
    if session.info.get(_OPEN):
        yield
        return
    expiring = session.expire_on_commit
    session.expire_on_commit = expiring and expire_on_commit
    try:
        if session.in_transaction():
            # End the read transaction a view may have opened, so the write one starts
            # fresh (and, on SQLite, can take the write lock first).
            session.commit()
        connection = session.connection(execution_options={_IMMEDIATE: True})
        if connection.dialect.name == "postgresql":
            timeout_ms = int(current_app.config["LOCK_TIMEOUT_SECONDS"] * 1000)
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
        session.info[_OPEN] = True
        yield
        session.commit()
    except OperationalError as error:
        session.rollback()
        if _is_lock_timeout(error):
            raise Busy() from error
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.expire_on_commit = expiring
        session.info.pop(_OPEN, None)


# --- after commit: tell whoever keeps copies (caches) what changed ---------------

_after_commit: list[Callable[[Session], None]] = []
_after_rollback: list[Callable[[Session], None]] = []


def after_commit(hook: Callable[[Session], None], *, on_rollback: Callable[[Session], None] | None = None) -> None:
    """Run ``hook(session)`` after every commit (``on_rollback`` after every rollback).
    Registered once per process by the layers that keep copies; idempotent."""
    if hook not in _after_commit:
        _after_commit.append(hook)
    if on_rollback is not None and on_rollback not in _after_rollback:
        _after_rollback.append(on_rollback)


# The app's sessions only (``db.session``): a plain Session outside any app has no one to tell.
@event.listens_for(AppSession, "after_commit")
def _committed(session: Session) -> None:
    for hook in _after_commit:
        hook(session)


@event.listens_for(AppSession, "after_rollback")
def _rolled_back(session: Session) -> None:
    for hook in _after_rollback:
        hook(session)

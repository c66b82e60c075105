"""Short write transactions that behave the same on PostgreSQL and SQLite.

PostgreSQL: row locks (``SELECT ... FOR UPDATE``) inside an ordinary
transaction. SQLite has no row locks and would fail a read transaction that
later tries to write; there every write transaction starts with
``BEGIN IMMEDIATE``, taking the database write lock up front so concurrent
writers queue (busy_timeout) instead of failing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

_IMMEDIATE = "eventsite_sqlite_immediate"
_OPEN = "eventsite_write_transaction_open"


def configure_sqlite(engine: Engine) -> None:
    """Hand transaction control to SQLAlchemy so we can choose BEGIN IMMEDIATE."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_IMMEDIATE) else "BEGIN")


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
        session.connection(execution_options={_IMMEDIATE: True})
        session.info[_OPEN] = True
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.expire_on_commit = expiring
        session.info.pop(_OPEN, None)

"""Test settings importable from any test module (a module named conftest is not: each
test folder may have its own)."""
import os
from contextlib import contextmanager
from datetime import UTC, datetime

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/eventsite_test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# A fixed, ordinary instant for tests that freeze time.
T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def truncate_all() -> None:
    """Empty every table and restart ids (inside an app context)."""
    from sqlalchemy import text

    from eventsite.domain.models import Base
    from eventsite.infra.db import db

    db.session.remove()
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@contextmanager
def lock_held_elsewhere(ticket_type_id: int):
    """Another connection (another process, say, stuck mid-transaction) holds the ticket type's row lock."""
    from sqlalchemy import create_engine, text

    engine = create_engine(TEST_DATABASE_URL)
    try:
        with engine.connect() as other:
            other.execute(text("SELECT id FROM ticket_types WHERE id = :id FOR UPDATE"), {"id": ticket_type_id})
            yield
            other.rollback()
    finally:
        engine.dispose()

"""Migrations upgrade and downgrade on empty PostgreSQL and SQLite databases and match the models."""

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, inspect
from sqlalchemy.engine import make_url
from testenv import TEST_DATABASE_URL

from eventsite import create_app
from eventsite.domain.models import Base, UTCDateTime
from eventsite.infra.db import db

TABLES = {"organizers", "events", "ticket_types", "orders", "order_items", "order_events", "webhook_events",
          "obligations", "payment_anomalies", "sweep_runs", "checkins", "waitlist_entries"}


@pytest.fixture
def empty_postgres():
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_migrations"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    if isinstance(metadata_type, UTCDateTime):  # runtime wrapper around DateTime(timezone=True)
        return context.impl.compare_type(inspected_column, Column(metadata_column.name, metadata_type.impl))
    return None


def upgrade_downgrade(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        assert TABLES <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": compare_type})
            assert compare_metadata(context, Base.metadata) == []  # models and migrations agree
        downgrade(revision="base")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade()  # and up again from a downgraded database
        assert TABLES <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_postgres_upgrades_and_downgrades(empty_postgres):
    upgrade_downgrade(empty_postgres)


def test_sqlite_upgrades_and_downgrades(tmp_path):
    upgrade_downgrade(f"sqlite:///{tmp_path / 'fresh.db'}")


def test_sqlite_upgrades_a_database_with_orders_in_it(tmp_path):
    """The quick start's database has the demo and its orders when a new migration comes:
    rebuilding a table others point at must keep every row and every reference."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'used.db'}"})
    with app.app_context():
        upgrade(revision="0002_sweep_index")
        with db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO organizers (id, email, name, password_hash, created_at) "
                                 "VALUES (1, 'o@x.test', 'O', '!', '2026-06-01 12:00:00')")
            conn.exec_driver_sql("INSERT INTO events (id, organizer_id, slug, title, description, timezone, venue, "
                                 "starts_at, hold_minutes, published, created_at) VALUES (1, 1, 's', 'S', '', 'UTC', "
                                 "'', '2026-07-01 20:00:00', 15, 1, '2026-06-01 12:00:00')")
            conn.exec_driver_sql("INSERT INTO orders (id, event_id, token, email, status, expires_at, "
                                 "payment_pending, created_at, updated_at) VALUES (1, 1, 't', 'b@x.test', "
                                 "'payment_processing', '2026-06-01 12:15:00', 1, '2026-06-01 12:00:00', "
                                 "'2026-06-01 12:05:00')")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pending_payment_hours FROM events").scalar() == 72
            assert conn.exec_driver_sql("SELECT pending_until FROM orders").scalar().startswith("2026-06-04 12:05")
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        db.engine.dispose()


@pytest.mark.parametrize("database", ["postgres", "sqlite"])
def test_the_currency_moves_to_the_event_and_each_order_keeps_the_one_it_was_charged_in(
        database, empty_postgres, tmp_path):
    url = empty_postgres if database == "postgres" else f"sqlite:///{tmp_path / 'used.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision="0005_sweep_runs")
        with db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO organizers (id, email, name, password_hash, created_at) "
                                 "VALUES (1, 'o@x.test', 'O', '!', '2026-06-01 12:00:00')")
            for event_id, slug in ((1, "tokyo"), (2, "empty")):
                conn.exec_driver_sql(
                    "INSERT INTO events (id, organizer_id, slug, title, description, timezone, venue, starts_at, "
                    f"hold_minutes, published, created_at) VALUES ({event_id}, 1, '{slug}', 'S', '', 'UTC', '', "
                    "'2026-07-01 20:00:00', 15, true, '2026-06-01 12:00:00')")
            conn.exec_driver_sql("INSERT INTO ticket_types (id, event_id, name, price, currency, capacity, "
                                 "per_order_limit, sold, created_at) VALUES (1, 1, 'GA', 5000, 'JPY', 10, 4, 1, "
                                 "'2026-06-01 12:00:00')")
            conn.exec_driver_sql("INSERT INTO orders (id, event_id, token, email, status, expires_at, "
                                 "payment_pending, created_at, updated_at) VALUES (1, 1, 't', 'b@x.test', "
                                 "'confirmed', '2026-06-01 12:15:00', false, '2026-06-01 12:00:00', "
                                 "'2026-06-01 12:05:00')")
            conn.exec_driver_sql("INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price) "
                                 "VALUES (1, 1, 1, 5000)")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT slug, currency, locale FROM events ORDER BY id").fetchall() == [
                ("tokyo", "JPY", "en"), ("empty", "EUR", "en")]
            assert conn.exec_driver_sql("SELECT currency FROM orders").scalar() == "JPY"
        assert "currency" not in {c["name"] for c in inspect(db.engine).get_columns("ticket_types")}
        downgrade(revision="0005_sweep_runs")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT currency FROM ticket_types").scalar() == "JPY"
        db.engine.dispose()

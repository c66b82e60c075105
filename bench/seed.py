"""The bench database: real migrations, then set-based seeding (one INSERT ...
SELECT generate_series per chunk, never a Python loop over rows)."""
from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from .settings import Settings

CHUNK = 250_000  # rows per seeding statement: bounded transactions, few round trips

# History: 60% expired, 35% confirmed, 5% cancelled, spread over the past year.
_HISTORY = text("""
    WITH o AS (
        INSERT INTO orders (event_id, token, email, currency, status, expires_at, payment_pending, created_at,
                            updated_at)
        SELECT :event_id, 'hist-' || g, 'past' || g || '@bench.test', 'EUR',
               CASE WHEN g % 20 < 12 THEN 'expired' WHEN g % 20 < 19 THEN 'confirmed' ELSE 'cancelled' END,
               t + interval '15 minutes', false, t, t + interval '10 minutes'
        FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) g,
             LATERAL (SELECT now() - interval '1 day' - (g % 525600) * interval '1 minute' AS t) ts
        RETURNING id
    )
    INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price)
    SELECT id, :tt, 1 + id % 3, 2500 FROM o
""")

# Holds: reserved orders created `age` ago that expire `ttl` from now (negative: lapsed).
_HOLDS = text("""
    WITH o AS (
        INSERT INTO orders (event_id, token, email, currency, status, expires_at, payment_pending, created_at,
                            updated_at)
        SELECT :event_id, :prefix || g, 'holder' || g || '@bench.test', 'EUR', 'reserved',
               now() + make_interval(secs => :ttl), false,
               now() - make_interval(secs => :age), now() - make_interval(secs => :age)
        FROM generate_series(1, CAST(:n AS bigint)) g
        RETURNING id
    )
    INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price)
    SELECT id, :tt, 1, 2500 FROM o
""")


def ensure_database(settings: Settings) -> None:
    """Create the bench database if it does not exist yet."""
    url = make_url(settings.database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": url.database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def create_event(engine: Engine, slug: str, capacity: int) -> tuple[int, int]:
    """A published event with one ticket type; returns (event_id, ticket_type_id)."""
    with engine.begin() as conn:
        organizer = conn.execute(text(
            "INSERT INTO organizers (email, name, password_hash, created_at)"
            " VALUES ('bench@bench.test', 'Bench', '!', now())"
            " ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name RETURNING id")).scalar_one()
        event_id = conn.execute(text(
            # The bench's buyers all come from one address: no per-client cap (the shop's anti-hoarding
            # limits are for real buyers, the bench measures the grant path).
            "INSERT INTO events (organizer_id, slug, title, description, timezone, venue, starts_at, hold_minutes,"
            " published, created_at, max_holds_per_client) VALUES (:o, :slug, :slug, '', 'UTC', '',"
            " now() + interval '30 days', 15, true, now(), 0) RETURNING id"),
            {"o": organizer, "slug": slug}).scalar_one()
        tt_id = conn.execute(text(
            "INSERT INTO ticket_types (event_id, name, price, capacity, per_order_limit, sold, created_at)"
            " VALUES (:e, 'General admission', 2500, :c, 10, 0, now()) RETURNING id"),
            {"e": event_id, "c": capacity}).scalar_one()
    return event_id, tt_id


def grow_history(engine: Engine, event_id: int, tt_id: int, have: int, want: int) -> int:
    """Add past orders (with items) until the event has ``want``; keeps ``sold`` true."""
    for first in range(have + 1, want + 1, CHUNK):
        with engine.begin() as conn:
            conn.execute(_HISTORY, {"event_id": event_id, "tt": tt_id, "first": first,
                                    "last": min(want, first + CHUNK - 1)})
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE ticket_types SET sold = (SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi"
            " JOIN orders o ON o.id = oi.order_id WHERE oi.ticket_type_id = :tt AND o.status = 'confirmed')"
            " WHERE id = :tt"), {"tt": tt_id})
    vacuum_analyze(engine)
    return max(have, want)


def add_holds(engine: Engine, event_id: int, tt_id: int, n: int, *, prefix: str, ttl_seconds: float,
              age_seconds: float) -> None:
    for first in range(0, n, CHUNK):
        with engine.begin() as conn:
            conn.execute(_HOLDS, {"event_id": event_id, "tt": tt_id, "n": min(CHUNK, n - first),
                                  "prefix": f"{prefix}{first}-", "ttl": ttl_seconds, "age": age_seconds})
    vacuum_analyze(engine)


def vacuum_analyze(engine: Engine) -> None:
    """The steady state autovacuum would reach: fresh statistics and visibility map."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE orders, order_items, ticket_types"))


def taken(engine: Engine, tt_id: int) -> dict:
    """What the database says a ticket type has given out: sold + live holds."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT tt.capacity, tt.sold, coalesce(sum(oi.quantity) FILTER (WHERE o.status IN"
            " ('reserved', 'payment_processing') AND o.expires_at > now()), 0) AS held"
            " FROM ticket_types tt LEFT JOIN order_items oi ON oi.ticket_type_id = tt.id"
            " LEFT JOIN orders o ON o.id = oi.order_id WHERE tt.id = :tt GROUP BY tt.id"), {"tt": tt_id}).one()
    return {"capacity": row.capacity, "sold": row.sold, "held": int(row.held)}

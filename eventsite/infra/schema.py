"""Recreating a database from scratch with the real migrations (tests and benchmarks,
each on a database of its own)."""
from __future__ import annotations

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from .db import db


def recreate(app: Flask) -> None:
    """Drop everything in the public schema, then run every migration."""
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()

"""The database handle: Flask-SQLAlchemy's engine and request-scoped session.

The tables are plain SQLAlchemy models in ``domain/models.py``; this module
only knows how to connect. Migrations and tests take the schema from
``domain.models.Base.metadata``.
"""
import logging

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import InterfaceError, OperationalError

db = SQLAlchemy()
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    db.init_app(app)

    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (teardowns run
    # in reverse). Ending the session rolls back on its connection; if the database went
    # away meanwhile (a restart), that rollback fails after the answer was already made.
    # The server-side transaction is gone anyway: drop the connection instead of raising.
    @app.teardown_appcontext
    def _release_session(_error):
        try:
            db.session.remove()
        except (OperationalError, InterfaceError) as error:
            log.warning("database connection lost at the end of a request: %s", error.orig)
            db.session().invalidate()
            db.session.remove()

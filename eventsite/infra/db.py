"""The database handle: Flask-SQLAlchemy's engine and request-scoped session.

The tables are plain SQLAlchemy models in ``domain/models.py``; this module
only knows how to connect. Migrations and tests take the schema from
``domain.models.Base.metadata``.
"""
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()

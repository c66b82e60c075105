"""eventsite: a ticket shop that holds tickets honestly."""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

from . import config


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_mapping(config.load(app.instance_path))
    if overrides:
        app.config.from_mapping(overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from .extensions import csrf, db, htmx, migrate
    from .transactions import configure_sqlite

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)

    from . import api, cli, dashboard, payments, ratelimit, shop, views

    ratelimit.init_app(app)

    # Each area registers its own blueprint and whatever it needs (login, limiter, jobs).
    for area in (shop, payments, dashboard, api):
        area.init_app(app)
    views.register(app)
    cli.register(app)
    return app

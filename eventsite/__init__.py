"""eventsite: a ticket shop that holds tickets honestly.

``create_app`` is the composition root: the one place that wires the layers
(settings, database, caches, web areas, commands) together.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from werkzeug.middleware.proxy_fix import ProxyFix

from .infra import db as database
from .infra import settings
from .infra.db import db
from .infra.transactions import configure_sqlite

migrate = Migrate()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_mapping(settings.load(app.instance_path))
    if overrides:
        app.config.from_mapping(overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from . import cli, web
    from .gateways import mail
    from .readmodels import availability_cache
    from .services import obligations, waitlist

    database.init_app(app)
    migrations = os.path.join(os.path.dirname(app.root_path), "migrations")
    migrate.init_app(app, db, directory=migrations, render_as_batch=True)
    with app.app_context():
        configure_sqlite(db.engine, app.config["LOCK_TIMEOUT_SECONDS"])
    availability_cache.init_app()
    obligations.init_app()
    waitlist.init_app()
    mail.init_app(app)
    web.init_app(app)
    cli.register(app)
    if app.config["TRUSTED_PROXIES"]:
        # Behind N trusted proxies the client is the N-th address from the right of X-Forwarded-For:
        # rate limits, logs and https detection see it, not the proxy every client shares.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app

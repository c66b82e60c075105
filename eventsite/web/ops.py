"""Operators' endpoints: GET /healthz (JSON; 200 or 503), GET /metrics (Prometheus), and
the RQ job monitor (rq-dashboard) at /ops/rq behind its own credential (OPS_PASSWORD)."""
from __future__ import annotations

import hmac

import rq_dashboard
from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from ..readmodels.operations import DatabaseCounts, health
from . import headers

bp = Blueprint("ops", __name__)
_database_counts = DatabaseCounts()


@bp.get("/healthz")
def healthz():
    healthy, report = health()
    return report, (200 if healthy else 503), {"Cache-Control": "no-store"}


@bp.get("/metrics")
def metrics():
    registry = REGISTRY
    if current_app.config["PROMETHEUS_MULTIPROC_DIR"]:  # several gunicorn workers: sum their counters
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_database_counts)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


_registered = False


def _operator_only():
    """HTTP basic auth with OPS_USERNAME / OPS_PASSWORD, compared in constant time."""
    auth, config = request.authorization, current_app.config
    if auth is None or not (hmac.compare_digest(auth.username or "", config["OPS_USERNAME"])
                            and hmac.compare_digest(auth.password or "", config["OPS_PASSWORD"])):
        return Response("Operators only.", 401, {"WWW-Authenticate": 'Basic realm="eventsite operators"'})
    return None


def _mount_job_monitor(app) -> None:
    """rq-dashboard, read-only in effect: its buttons post without our CSRF token, which the
    app refuses; requeue or empty queues with the `rq` command instead."""
    for name in dir(rq_dashboard.default_settings):
        if name.isupper():
            app.config.setdefault(name, getattr(rq_dashboard.default_settings, name))
    app.config["RQ_DASHBOARD_REDIS_URL"] = [app.config["REDIS_URL"]]
    rq_dashboard.web.setup_rq_connection(app)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/ops/rq")
    headers.exempt_job_monitor(app, rq_dashboard.blueprint.name)  # its inline scripts need their own policy
    # First of its before-request functions: no page of it answers without the credential.
    app.before_request_funcs.setdefault(rq_dashboard.blueprint.name, []).insert(0, _operator_only)


def init_app(app) -> None:
    global _registered
    if not _registered:  # once per process, however many apps it creates (tests do)
        REGISTRY.register(_database_counts)
        _registered = True
    app.register_blueprint(bp)
    if app.config["OPS_PASSWORD"]:
        _mount_job_monitor(app)

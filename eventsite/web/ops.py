"""Operators' endpoints: GET /healthz (JSON; 200 or 503) and GET /metrics (Prometheus)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from ..readmodels.operations import DatabaseCounts, health

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


def init_app(app) -> None:
    global _registered
    if not _registered:  # once per process, however many apps it creates (tests do)
        REGISTRY.register(_database_counts)
        _registered = True
    app.register_blueprint(bp)

"""Operators see whether the shop and its background work are keeping up."""
from __future__ import annotations

from datetime import timedelta

from rq import Queue

from eventsite.infra.db import db
from eventsite.readmodels import lookups
from eventsite.services import reserving
from worker import SimpleAppWorker


def test_healthz_reports_database_redis_workers_the_sweep_and_pending_work(app, client, frozen, make_event,
                                                                             rq_redis, settings):
    _, (ga,) = make_event()
    redis_url = app.config["REDIS_URL"]
    empty = client.get("/healthz")
    assert empty.status_code == 200 and empty.headers["Cache-Control"] == "no-store"
    assert (empty.json["database"], empty.json["redis"], empty.json["workers"]["count"]) == ("ok", "ok", 0)
    assert empty.json["sweep_last_run"] is None and empty.json["obligations"] == {"pending": 0, "oldest_due_at": None}

    worker = SimpleAppWorker([Queue("default", connection=rq_redis)], connection=rq_redis, app=app)
    worker.register_birth()
    worker.heartbeat()  # an idle worker beats too
    app.test_cli_runner().invoke(args=["jobs", "sweep"])
    with app.app_context():  # promised work that nobody did yet: a released hold's session to close
        order = reserving.reserve("rush", {ga: 1}, "ann@example.test")
        order.stripe_session_id = "cs_test_never_closed"
        db.session.commit()
        settings(REDIS_URL="redis://127.0.0.1:1/0")  # so it is not queued: it stays pending
        app.extensions.pop("redis", None)
        reserving.release(lookups.order_by_token(order.token), actor="buyer:test")

    down = client.get("/healthz")
    assert down.status_code == 503 and down.json["redis"] == "unreachable" and down.json["database"] == "ok"
    # the hold's message to its buyer and the released hold's session to close
    assert down.json["obligations"] == {"pending": 2, "oldest_due_at": frozen.now().isoformat(timespec="seconds")}
    assert down.json["sweep_last_run"] == frozen.now().isoformat(timespec="seconds")

    settings(REDIS_URL=redis_url)  # Redis is back
    app.extensions.pop("redis", None)
    up = client.get("/healthz").json
    assert up["redis"] == "ok" and up["workers"]["count"] == 1 and up["workers"]["last_heartbeat"]
    assert up["sweep_next_run"] is not None  # the sweep registered itself again when it ran


def test_metrics_count_reservations_orders_and_promised_work(client, make_event, frozen):
    _, (ga,) = make_event({"name": "GA", "capacity": 1})
    before = client.get("/metrics").text
    body = {"email": "ann@example.test", "items": [{"ticket_type_id": ga, "quantity": 1}]}
    assert client.post("/api/v1/events/rush/reservations", json=body).status_code == 201
    assert client.post("/api/v1/events/rush/reservations", json=body).status_code == 409  # sold out
    frozen.advance(timedelta(minutes=16))
    after = client.get("/metrics")
    assert after.status_code == 200 and after.mimetype == "text/plain"

    def sample(text: str, name: str) -> float:
        return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")), 0.0)

    def grew(name: str) -> float:
        return sample(after.text, name) - sample(before, name)

    assert grew("eventsite_reserve_seconds_count") == 2 and grew("eventsite_holds_placed_total") == 1
    assert 'eventsite_orders{status="reserved"} 1.0' in after.text
    assert "eventsite_obligations_pending 1.0" in after.text  # the hold's message: no worker has run
    assert "eventsite_obligations_oldest_seconds 960.0" in after.text


def test_the_job_monitor_is_for_operators_only(app, rq_redis):
    from base64 import b64encode

    from eventsite import create_app

    assert app.test_client().get("/ops/rq/").status_code == 404  # no OPS_PASSWORD: not mounted at all
    monitored = create_app({"TESTING": True, "SECRET_KEY": "s", "SQLALCHEMY_DATABASE_URI": app.config[
        "SQLALCHEMY_DATABASE_URI"], "REDIS_URL": app.config["REDIS_URL"], "OPS_PASSWORD": "door-staff-only"})
    client = monitored.test_client()
    refused = client.get("/ops/rq/")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
    wrong = {"Authorization": "Basic " + b64encode(b"ops:guess").decode()}
    assert client.get("/ops/rq/0/data/queues.json", headers=wrong).status_code == 401
    Queue("default", connection=rq_redis).enqueue("eventsite.tasks.sweep")
    right = {"Authorization": "Basic " + b64encode(b"ops:door-staff-only").decode()}
    queues = client.get("/ops/rq/0/data/queues.json", headers=right)
    assert queues.status_code == 200 and {"name": "default", "count": 1} in [
        {k: q[k] for k in ("name", "count")} for q in queues.json["queues"]]

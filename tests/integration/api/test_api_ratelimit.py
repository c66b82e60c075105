"""Reservation creation is rate limited per client in Redis, and can be switched off."""
from __future__ import annotations

import itertools
import os

import pytest
from redis import Redis

from eventsite import create_app
from eventsite.infra.db import db

API = "/api/v1"
BUYERS = itertools.count()


def body() -> dict:
    """A reservation by a buyer not seen before (each email may have one live hold per event)."""
    return {"email": f"b{next(BUYERS)}@example.test", "items": [{"ticket_type_id": 1, "quantity": 1}]}


@pytest.fixture
def limited_app(limited):
    return limited(RESERVE_RATE_LIMIT="2/hour")


def test_a_client_over_the_limit_gets_429_with_retry_after(limited_app, make_event, table_counts):
    make_event({"name": "GA", "capacity": 10})
    client = limited_app.test_client()
    post = lambda addr: client.post(f"{API}/events/rush/reservations", json=body(),  # noqa: E731
                                    environ_base={"REMOTE_ADDR": addr})

    assert [post("10.0.0.1").status_code for _ in range(2)] == [201, 201]
    refused = post("10.0.0.1")

    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_requests"
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600  # when this client's window resets
    assert table_counts()[0] == 2
    # Counted in Redis, so every web process shares the budget.
    assert Redis.from_url(limited_app.config["REDIS_URL"]).keys("*10.0.0.1*")
    assert post("10.0.0.2").status_code == 201  # another client has its own budget
    # Only creating reservations is limited; reading goes on.
    assert client.get(f"{API}/events/rush/availability", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def test_a_malformed_request_does_not_spend_the_budget(limited_app, make_event):
    make_event({"name": "GA", "capacity": 10})
    client = limited_app.test_client()
    post = lambda json: client.post(f"{API}/events/rush/reservations", json=json,  # noqa: E731
                                    environ_base={"REMOTE_ADDR": "10.0.0.3"}).status_code

    assert [post({"email": "a@b.test", "items": []}) for _ in range(3)] == [422, 422, 422]  # fixing its request
    assert [post(body()), post(body())] == [201, 201]  # the budget (2/hour) is still whole
    assert post(body()) == 429


def test_ratelimit_enabled_false_switches_the_limit_off(client, make_event):
    make_event({"name": "GA", "capacity": 100}, max_holds_per_client=0)  # every post is from one client
    statuses = {client.post(f"{API}/events/rush/reservations", json=body()).status_code for _ in range(12)}
    assert statuses == {201}  # the default is 10/minute; the suite's app runs with RATELIMIT_ENABLED=false


def test_the_limit_is_configurable_from_the_environment(monkeypatch, app):
    monkeypatch.setenv("RESERVE_RATE_LIMIT", "7/hour")
    configured = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                             "REDIS_URL": os.environ.get("TEST_REDIS_URL", app.config["REDIS_URL"])})
    assert configured.config["RESERVE_RATE_LIMIT"] == "7/hour"
    assert configured.config["RATELIMIT_ENABLED"] is True


def test_redis_down_does_not_stop_sales(app, make_event, table_counts):
    """The limiter counts in memory while Redis is unreachable instead of failing requests."""
    make_event({"name": "GA", "capacity": 10})
    no_redis = create_app({
        **{key: app.config[key] for key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI")},
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0},
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "RATELIMIT_ENABLED": True,
        "RESERVE_RATE_LIMIT": "2/minute",
    })
    client = no_redis.test_client()
    statuses = [client.post(f"{API}/events/rush/reservations", json=body()).status_code for _ in range(3)]
    with no_redis.app_context():
        db.engine.dispose()
    assert statuses == [201, 201, 429]
    assert table_counts()[0] == 2

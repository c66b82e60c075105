"""Errors under /api/v1 are JSON, whatever raised them; other paths are left alone."""
from __future__ import annotations

import os

from eventsite import create_app

API = "/api/v1"


def test_unknown_api_paths_and_methods_answer_json(client):
    missing = client.get(f"{API}/no/such/thing")
    assert (missing.status_code, missing.json["error"]["code"]) == (404, "not_found")
    assert missing.json["error"]["fields"] == {} and missing.json["error"]["message"]

    wrong_method = client.put(f"{API}/events")
    assert (wrong_method.status_code, wrong_method.json["error"]["code"]) == (405, "method_not_allowed")
    assert set(wrong_method.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


def test_pages_outside_the_api_keep_their_html_errors(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_an_unreachable_database_is_a_json_503_to_retry(app):
    broken = create_app({
        "SECRET_KEY": "test", "RATELIMIT_ENABLED": False, "REDIS_URL": os.environ.get("TEST_REDIS_URL"),
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://root@127.0.0.1:1/nowhere",
    })
    response = broken.test_client().get(f"{API}/events")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json["error"]["code"] == "unavailable" and "try again" in response.json["error"]["message"]


def test_a_crash_is_a_json_500_without_details(app):
    """A real failure (a bug): nothing of it leaks into the answer."""
    crashing = create_app({"SECRET_KEY": "test", "RATELIMIT_ENABLED": False,
                           "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    crashing.add_url_rule(f"{API}/crash", "crash", lambda: {"secret": 1 / 0})
    response = crashing.test_client().get(f"{API}/crash")
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal_server_error", "fields": {},
                                       "message": "Something went wrong on our side."}}


def test_the_api_needs_no_csrf_token_but_forms_elsewhere_still_do(client, make_event):
    """CSRF stays on (the test app keeps it): the API is exempt because it trusts no
    cookie, while a form POST on any other route is still refused without a token."""
    _, (ga,) = make_event()
    assert client.post(f"{API}/events/rush/reservations",
                       json={"email": "a@b.test", "items": [{"ticket_type_id": ga, "quantity": 1}]}).status_code == 201

    other = create_app({"SECRET_KEY": "test", "RATELIMIT_ENABLED": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    other.add_url_rule("/form", "form", lambda: "accepted", methods=["POST"])
    refused = other.test_client().post("/form", data={"email": "a@b.test"})
    assert refused.status_code == 400 and b"CSRF" in refused.data

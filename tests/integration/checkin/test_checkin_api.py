"""POST /api/v1/events/{slug}/checkins: the door's scan for apps, with the organizer's token."""
from __future__ import annotations

from datetime import timedelta

import pytest
from testenv import T0

API = "/api/v1/events/owned/checkins"


@pytest.fixture
def auth(world, organizer_token):
    return organizer_token("owner@example.test")


def test_a_scan_is_answered_with_its_result(frozen, world, client, auth, codes):
    (code,) = codes(world.paid_order_id)
    first = client.post(API, json={"code": code, "device": "Gate A"}, headers=auth)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert first.json == {"result": "valid", "ticket_type": "VIP", "seat": 1, "order_id": world.paid_order_id,
                          "order_status": None, "checked_in_at": T0.isoformat(), "device": "Gate A"}
    frozen.advance(timedelta(seconds=30))
    again = client.post(API, json={"code": code}, headers=auth)
    assert again.status_code == 200
    assert (again.json["result"], again.json["checked_in_at"], again.json["device"]) == (
        "already", T0.isoformat(), "Gate A")


def test_every_outcome_is_a_200(world, client, auth, codes):
    held = client.post(API, json={"code": codes(world.held_order_id, seat=1)}, headers=auth)
    assert held.status_code == 200 and (held.json["result"], held.json["order_status"]) == ("not_paid", "reserved")
    other = client.post(API, json={"code": codes(world.other_order_id, seat=1)}, headers=auth)
    assert other.json == {"result": "wrong_event", "ticket_type": None, "seat": None, "order_id": None,
                          "order_status": None, "checked_in_at": None, "device": None}
    assert client.post(API, json={"code": codes(world.paid_order_id)[0][:-1] + "X"}, headers=auth).json[
        "result"] == "unreadable"  # X is no hex digit: not even shaped like a code
    forged = codes(world.paid_order_id)[0][:-4] + "0000"
    assert client.post(API, json={"code": forged}, headers=auth).json["result"] == "forged"


@pytest.mark.parametrize(("body", "field"), [
    (None, "body"), ([], "body"), ({}, "code"), ({"code": ""}, "code"), ({"code": 123}, "code"),
    ({"code": "ES-" + "1" * 200}, "code"), ({"code": "x", "device": 5}, "device"),
    ({"code": "x", "device": "d" * 101}, "device"), ({"code": "x", "device": "a\x00b"}, "device"),
    ({"code": "x", "extra": 1}, "extra"),
])
def test_bad_input_is_a_422_naming_the_field_with_nothing_changed(world, client, auth, snapshot, body, field):
    before = snapshot()
    response = client.post(API, json=body, headers=auth) if body is not None else client.post(
        API, data="not json", headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"] and response.json["error"]["message"]
    assert snapshot() == before


def test_only_the_events_organizer_may_scan(world, client, auth, organizer_token, codes, snapshot):
    body = {"code": codes(world.paid_order_id)[0], "device": "x"}
    theirs = organizer_token("other@example.test")
    before = snapshot()
    assert client.post(API, json=body).status_code == 401
    bad = client.post(API, json=body, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post(API, json=body, headers=theirs).status_code == 404
    assert client.post("/api/v1/events/no-such/checkins", json=body, headers=auth).status_code == 404
    assert snapshot() == before

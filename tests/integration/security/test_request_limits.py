"""What the app reads: the JSON API reads only JSON (a cross-site text/plain or form post is a 415),
and no body over MAX_REQUEST_BYTES (413, as a page or as JSON); either way nothing changes."""
from __future__ import annotations

import json

import pytest
import requests
from shop_support import csrf_from

from eventsite.infra import settings as settings_module

API = "/api/v1"
ONE_MB = 1024 * 1024
BODY = {"email": "buyer@example.test", "items": [{"ticket_type_id": 1, "quantity": 1}]}


def reservation_body(tt: int) -> dict:
    return {"email": "buyer@example.test", "items": [{"ticket_type_id": tt, "quantity": 1}]}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/json-patch+json", None])
def test_a_reservation_that_is_not_json_is_415_and_holds_nothing(client, make_event, table_counts, content_type):
    """text/plain is what any site can make a visitor's browser post to us without asking."""
    _, (ga,) = make_event()
    before = table_counts()
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(f"{API}/events/rush/reservations", data=json.dumps(reservation_body(ga)), headers=headers)
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"
    assert "application/json" in response.json["error"]["message"] and response.json["error"]["fields"] == {}
    assert table_counts() == before


def test_json_with_a_charset_is_json(client, make_event):
    _, (ga,) = make_event()
    response = client.post(f"{API}/events/rush/reservations", data=json.dumps(reservation_body(ga)),
                           headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 201


def test_a_check_in_that_is_not_json_is_415_and_lets_no_one_in(client, make_event, organizer_token, snapshot):
    make_event()
    auth = organizer_token()
    before = snapshot()
    response = client.post(f"{API}/events/rush/checkins", data='{"code": "ES-1-1-00", "device": "Door"}',
                           headers={"Content-Type": "text/plain", **auth})
    assert response.status_code == 415 and response.json["error"]["code"] == "unsupported_media_type"
    assert snapshot() == before


def test_bodyless_posts_and_deletes_need_no_content_type(client, make_event, reserve):
    _, (ga,) = make_event()
    token = reserve("rush", [(ga, 1)]).json["token"]
    assert client.post(f"{API}/reservations/{token}/checkout").status_code == 202
    assert client.delete(f"{API}/reservations/{token}").status_code == 200
    # A body there must still be JSON: a text/plain one is refused, not ignored.
    assert client.delete(f"{API}/reservations/{token}", data="x", content_type="text/plain").status_code == 415


def test_a_1_mb_form_post_to_the_reserve_form_is_413_and_holds_nothing(client, make_event, table_counts):
    _, (ga,) = make_event()
    form = {"csrf_token": csrf_from(client.get("/events/rush").text), "email": "ann@example.test",
            f"qty-{ga}": "1", "padding": "x" * ONE_MB}
    before = table_counts()
    page = client.post("/events/rush/reserve", data=form)
    assert page.status_code == 413
    assert "too large" in page.text and "64 KiB" in page.text and "Nothing was changed" in page.text
    as_json = client.post("/events/rush/reserve", data=form, headers={"Accept": "application/json"})
    assert as_json.status_code == 413 and as_json.json["error"]["code"] == "too_large"
    assert table_counts() == before
    # Just under the limit is an ordinary (here: accepted) reservation.
    form["padding"] = "x" * (60 * 1024)
    assert client.post("/events/rush/reserve", data=form).status_code == 303


def test_a_1_mb_json_reservation_is_413_in_the_apis_format(client, make_event, table_counts):
    _, (ga,) = make_event()
    before = table_counts()
    body = {**reservation_body(ga), "padding": "x" * ONE_MB}
    response = client.post(f"{API}/events/rush/reservations", json=body)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large" and "64 KiB" in response.json["error"]["message"]
    assert response.json["error"]["fields"] == {}
    assert table_counts() == before


def test_a_large_body_is_refused_even_where_the_view_would_ignore_it(client, make_event, reserve):
    """Starting checkout reads no body; a 1 MB one is still refused before anything happens."""
    _, (ga,) = make_event()
    token = reserve("rush", [(ga, 1)]).json["token"]
    response = client.post(f"{API}/reservations/{token}/checkout", json={"padding": "x" * ONE_MB})
    assert response.status_code == 413
    assert client.get(f"{API}/reservations/{token}").json["status"] == "reserved"


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(live_server, make_event, table_counts):
    """No Content-Length to refuse up front: reading stops at the limit, with the same 413."""
    _, (ga,) = make_event()
    before = table_counts()
    head = json.dumps(reservation_body(ga))[:-1] + ', "padding": "'

    def chunks():
        yield head.encode()
        for _ in range(16):
            yield b"x" * (64 * 1024)
        yield b'"}'

    response = requests.post(f"{live_server}{API}/events/rush/reservations", data=chunks(),
                             headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert table_counts() == before


def test_the_limit_is_a_setting(tmp_path):
    assert settings_module.load(str(tmp_path), {})["MAX_CONTENT_LENGTH"] == 64 * 1024
    assert settings_module.load(str(tmp_path), {"MAX_REQUEST_BYTES": "1000"})["MAX_CONTENT_LENGTH"] == 1000
    with pytest.raises(settings_module.SettingsError, match="MAX_REQUEST_BYTES"):
        settings_module.load(str(tmp_path), {"MAX_REQUEST_BYTES": "0"})


def test_the_payment_providers_webhooks_stay_far_below_the_limit(app, make_event, buyer, devstripe):
    """Stripe's events are a few KB: the dev server's, delivered to the app, stay under an eighth of it."""
    event_id, (ga,) = make_event()
    order = buyer.reserve(event_id, {ga: 2})
    assert devstripe.click(buyer.checkout(order.token), "pay").status_code in (302, 303)
    delivered = devstripe.wait_delivered("checkout.session.completed")
    sizes = [len(json.dumps({k: v for k, v in event.items() if k != "attempts"}).encode()) for event in delivered]
    assert sizes and max(sizes) < app.config["MAX_CONTENT_LENGTH"] / 8, sizes

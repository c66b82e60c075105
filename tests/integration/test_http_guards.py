"""App-wide input guards: a NUL byte (which PostgreSQL text cannot hold) gets a clear 4xx
before any query runs, on every route, instead of a database error."""
import re

import pytest


@pytest.mark.parametrize("path", ["/events/%00", "/r/%00", "/r/x%00y/payment", "/dashboard/events/1%00"])
def test_a_path_with_a_nul_byte_names_nothing(client, make_event, path):
    make_event()
    response = client.get(path)
    assert response.status_code == 404
    assert "There is no such page." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/events/rush/availability?qty-1=%00", "/dashboard/login?next=%00",
                                  "/dashboard/events/1/orders?email=%00"])
def test_nul_bytes_in_fields_are_refused_with_a_message(client, make_event, path):
    make_event()
    response = client.get(path)
    assert response.status_code == 422
    assert "The request contains a NUL character." in response.get_data(as_text=True)


def test_nul_bytes_in_the_api_get_a_json_error_naming_the_field(client, make_event):
    make_event()
    response = client.get("/api/v1/events/rush/availability?reservation=%00")
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"reservation": "The request contains a NUL character."}


def test_nul_in_a_form_field_is_refused_and_reserves_nothing(client, make_event):
    _, (ga,) = make_event()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/events/rush").get_data(as_text=True))[1]
    response = client.post("/events/rush/reserve",
                           data={"csrf_token": token, "email": "a\x00@example.test", f"qty-{ga}": "1"})
    assert response.status_code == 422
    assert "NUL character" in response.get_data(as_text=True)
    assert client.get("/api/v1/events/rush/availability").json["ticket_types"][0]["held"] == 0

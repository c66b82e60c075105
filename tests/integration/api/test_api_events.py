"""Public events and the pollable availability figures."""
from __future__ import annotations

from datetime import timedelta

API = "/api/v1"


def test_events_lists_published_events_with_ticket_types_and_figures(client, make_event, reserve, frozen):
    _, (ga, vip) = make_event({"name": "GA", "capacity": 10, "price": 2500, "per_order_limit": 4},
                              {"name": "VIP", "capacity": 2}, currency="USD")
    make_event(slug="draft", published=False)
    reserve("rush", [(ga, 3)])

    response = client.get(f"{API}/events")

    assert response.status_code == 200
    (event,) = response.json["events"]
    assert event["slug"] == "rush" and event["title"] == "Event rush"
    assert event["starts_at"] == (frozen.now() + timedelta(days=30)).isoformat()
    assert event["links"]["availability"] == {"href": f"{API}/events/rush/availability", "method": "GET"}
    by_name = {tt["name"]: tt for tt in event["ticket_types"]}
    assert {k: by_name["GA"][k] for k in ("id", "price", "currency", "per_order_limit", "capacity", "sold",
                                          "held", "available", "next_release_at", "on_sale")} == {
        "id": ga, "price": 2500, "currency": "USD", "per_order_limit": 4, "capacity": 10, "sold": 0, "held": 3,
        "available": 7, "next_release_at": (frozen.now() + timedelta(minutes=15)).isoformat(), "on_sale": True}
    assert (by_name["VIP"]["id"], by_name["VIP"]["currency"], by_name["VIP"]["available"]) == (vip, "USD", 2)
    assert event["currency"] == "USD"  # every price of an event is in its one currency


def test_one_event_and_unknown_or_unpublished_ones(client, make_event):
    make_event()
    make_event(slug="draft", published=False)

    assert client.get(f"{API}/events/rush").json["slug"] == "rush"
    for slug in ("draft", "nope"):
        response = client.get(f"{API}/events/{slug}")
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
        assert client.get(f"{API}/events/{slug}/availability").status_code == 404


def test_availability_answers_304_until_the_figures_change(client, make_event, reserve, frozen):
    _, (ga,) = make_event({"name": "GA", "capacity": 5})
    first = client.get(f"{API}/events/rush/availability")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('W/"')
    assert first.json["ticket_types"] == [{"id": ga, "on_sale": True, "capacity": 5, "sold": 0, "held": 0,
                                           "available": 5, "next_release_at": None, "waiting_list": "open",
                                           "waiting": 0, "promised": 0}]

    unchanged = client.get(f"{API}/events/rush/availability", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""

    reserve("rush", [(ga, 2)])
    changed = client.get(f"{API}/events/rush/availability", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json["ticket_types"][0]["available"] == 3
    assert changed.headers["ETag"] != etag

    # The hold lapsing changes the figures too, with no job involved.
    frozen.advance(timedelta(minutes=15))
    lapsed = client.get(f"{API}/events/rush/availability", headers={"If-None-Match": changed.headers["ETag"]})
    assert lapsed.status_code == 200 and lapsed.json["ticket_types"][0]["available"] == 5


def test_availability_tells_a_holder_what_is_theirs(client, make_event, reserve):
    _, (ga,) = make_event({"name": "GA", "capacity": 5})
    mine = reserve("rush", [(ga, 2)]).json["token"]
    reserve("rush", [(ga, 1)], email="other@example.test")

    figures = client.get(f"{API}/events/rush/availability", query_string={"reservation": mine}).json
    assert {k: figures["ticket_types"][0][k] for k in ("held", "held_by_you", "held_by_others", "available")} == {
        "held": 3, "held_by_you": 2, "held_by_others": 1, "available": 2}
    anonymous = client.get(f"{API}/events/rush/availability").json["ticket_types"][0]
    assert "held_by_you" not in anonymous


def test_availability_refuses_unknown_or_malformed_query_parameters(client, make_event):
    make_event()
    for query, field in (({"reservaton": "x"}, "reservaton"), ({"reservation": "a\x00b"}, "reservation")):
        response = client.get(f"{API}/events/rush/availability", query_string=query)
        assert response.status_code == 422 and list(response.json["error"]["fields"]) == [field]

"""Every dashboard route x every role: anonymous -> login, another organizer -> 404, owner -> allowed.

The table below must name every route of the blueprint (checked against
app.url_map), so a new route cannot ship without its access rule.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from dashboard_helpers import csrf_token
from flask import url_for

# endpoint -> (method, ids it takes, what the owner gets). Ids name World fields.
ROUTES = {
    "dashboard.login": ("GET", {}, 200),
    "dashboard.signup": ("GET", {}, 200),
    "dashboard.logout": ("POST", {}, 302),
    "dashboard.password": ("GET", {}, 200),
    "dashboard.index": ("GET", {}, 200),
    "dashboard.event_new": ("GET", {}, 200),
    "dashboard.event": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.event_live": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.event_edit": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.event_publication": ("POST", {"event_id": "event_id"}, 302),
    "dashboard.ticket_type_new": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.ticket_type_edit": ("GET", {"event_id": "event_id", "ticket_type_id": "ticket_type_ids"}, 200),
    "dashboard.orders": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.order": ("GET", {"event_id": "event_id", "order_id": "held_order_id"}, 200),
    "dashboard.order_release": ("POST", {"event_id": "event_id", "order_id": "held_order_id"}, 302),
    # The owner passes the access check and meets the state rule: a hold cannot be refunded.
    "dashboard.order_refund": ("POST", {"event_id": "event_id", "order_id": "held_order_id"}, 409),
    "dashboard.export_attendees": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.checkin": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.checkin_status": ("GET", {"event_id": "event_id"}, 200),
    # The owner passes the access check and meets the input rule: a scan without a code.
    "dashboard.checkin_scan": ("POST", {"event_id": "event_id"}, 422),
    # The world has no check-in: the owner passes the access check and finds none (tests/integration/checkin).
    "dashboard.checkin_undo": ("POST", {"event_id": "event_id", "checkin_id": "paid_order_id"}, 404),
    "dashboard.waitlist_line": ("GET", {"event_id": "event_id", "ticket_type_id": "ticket_type_ids"}, 200),
    # The owner passes the access check and meets the input rule: no state chosen.
    "dashboard.waitlist_state": ("POST", {"event_id": "event_id", "ticket_type_id": "ticket_type_ids"}, 422),
    "dashboard.export_orders": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.room_form": ("GET", {"event_id": "event_id"}, 200),
    # The confirmation steps; the world's event is published and ordered from, so each shows why not.
    "dashboard.event_delete": ("GET", {"event_id": "event_id"}, 200),
    "dashboard.ticket_type_delete": ("GET", {"event_id": "event_id", "ticket_type_id": "ticket_type_ids"}, 200),
    # The owner passes the access check and meets the input rule: no settings sent.
    "dashboard.room_settings": ("POST", {"event_id": "event_id"}, 422),
}
PUBLIC = {"dashboard.login", "dashboard.signup"}
ROLES = ("anonymous", "other", "owner")


def test_the_table_covers_every_dashboard_route(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("dashboard.")}
    assert endpoints == set(ROUTES)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ROUTES:
            assert ROUTES[rule.endpoint][0] in rule.methods, rule


def _url(app, world, endpoint: str, ids: dict) -> str:
    values = {}
    for arg, field in ids.items():
        value = getattr(world, field)
        values[arg] = value[0] if isinstance(value, list) else value
    with app.test_request_context():
        return url_for(endpoint, **values)


def _expected(endpoint: str, role: str) -> int:
    method, ids, owner_status = ROUTES[endpoint]
    if endpoint in PUBLIC:
        return 200
    if role == "anonymous":
        return 302
    if role == "other" and ids:
        return 404
    return owner_status


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_access(app, world, request, endpoint, role):
    client = app.test_client() if role == "anonymous" else request.getfixturevalue(role)
    method, ids, _ = ROUTES[endpoint]
    url = _url(app, world, endpoint, ids)
    if method == "POST":
        response = client.post(url, data={"csrf_token": csrf_token(client), "published": "1"})
    else:
        response = client.get(url)
    assert response.status_code == _expected(endpoint, role), response.get_data(as_text=True)[:500]
    if role == "anonymous" and endpoint not in PUBLIC:
        location = urlsplit(response.location)
        assert location.path == "/dashboard/login"
        assert "next=" in location.query


@pytest.mark.parametrize("endpoint", ["dashboard.order", "dashboard.order_release", "dashboard.order_refund"])
def test_an_order_is_reached_only_through_its_own_event(app, world, owner, endpoint, snapshot):
    """The owner's event id with another organizer's order id (and the reverse) is 404."""
    before = snapshot()
    method = ROUTES[endpoint][0]
    for event_id, order_id in ((world.event_id, world.other_order_id), (world.other_event_id, world.held_order_id)):
        with app.test_request_context():
            url = url_for(endpoint, event_id=event_id, order_id=order_id)
        response = owner.get(url) if method == "GET" else owner.post(url, data={"csrf_token": csrf_token(owner)})
        assert response.status_code == 404
    assert snapshot() == before


def test_a_ticket_type_is_reached_only_through_its_own_event(app, world, owner, snapshot):
    before = snapshot()
    path = f"/dashboard/events/{world.event_id}/ticket-types/{world.other_ticket_type_id}/edit"
    assert owner.get(path).status_code == 404
    response = owner.post(path, data={"csrf_token": csrf_token(owner), "name": "Mine now", "price": "1",
                                      "capacity": "1", "per_order_limit": "1"})
    assert response.status_code == 404
    assert snapshot() == before


def test_a_post_without_csrf_token_is_refused(world, owner, snapshot):
    before = snapshot()
    response = owner.post(f"/dashboard/events/{world.event_id}/publication", data={"published": "0"})
    assert response.status_code == 400
    assert snapshot() == before


def test_a_poll_after_signing_out_sends_the_page_to_the_login_form(world, client):
    response = client.get(f"/dashboard/events/{world.event_id}/live", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/dashboard/login"

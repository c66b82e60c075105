"""schemathesis fuzzes every operation of the OpenAPI document against the live app
(real HTTP, real PostgreSQL): no 5xx, and every answer matches the document."""
from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from room_support import set_room
from schemathesis.specs.openapi.checks import positive_data_acceptance
from testenv import truncate_all

from eventsite.domain.clock import clock
from eventsite.infra import room_store
from eventsite.services import waitlist
from eventsite.web.api.openapi import DOCUMENT

schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))  # it adds the links it infers: not to ours
CALLS: dict[str, Counter[str]] = {"fuzz": Counter(), "stateful": Counter()}
FIGURES = Path(__file__).parents[2] / "artifacts" / "schemathesis-figures.json"


# Operations that also answer 422 for rules a schema cannot state (a ticket type's per-order
# limit, another event's types, the full email syntax), so schema-valid input is not always acceptable there.
SEMANTIC = {"createReservation", "joinWaitlist", "joinRoom"}
ROOM_ON_SALE = timedelta(minutes=10)  # "big-night" goes on sale 10 minutes after each reset; its room is open


def _validate(case, response, kind: str) -> None:
    """The default checks, but for the acceptance of schema-valid input by SEMANTIC operations."""
    label = case.operation.label
    if case.method.upper() != case.operation.method.upper():  # an undocumented method, probed on purpose
        label += f" (probed with {case.method.upper()})"
    CALLS[kind][f"{label} -> {response.status_code}"] += 1
    semantic = case.operation.definition.raw.get("operationId") in SEMANTIC
    case.validate_response(response, excluded_checks=[positive_data_acceptance] if semantic else None)


@pytest.fixture(scope="module", autouse=True)
def _record_figures():
    """Write the calls made per operation and status, for the record (tests/artifacts is git-ignored)."""
    yield
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps({kind: {"operations": len({key.split(" (")[0].split(" -> ")[0] for key in calls}),
                                          "calls": sum(calls.values()), "by_status": dict(sorted(calls.items()))}
                                   for kind, calls in CALLS.items()}, indent=2))


@pytest.fixture
def target(app, live_server, make_event, organizer_token):
    """The documented example events (ticket type id 1: ids restart for every test; "big-night", type 3,
    has a waiting room, open) and a token; ``target.reset()`` starts over from empty tables and rooms."""

    class Target:
        base_url = f"{live_server}/api/v1"

        def reset(self):
            with app.app_context():
                truncate_all()
                room_store.clear()
            make_event({"name": "GA", "capacity": 3, "per_order_limit": 2}, {"name": "VIP", "capacity": 1},
                       slug="demo-night")
            room_event, _ = make_event({"name": "GA", "capacity": 2, "sales_start": clock.now() + ROOM_ON_SALE},
                                       slug="big-night")
            with app.app_context():
                set_room(room_event)
            self.auth = organizer_token()

    target = Target()
    target.reset()
    return target


@schema.parametrize()
@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_keeps_to_its_openapi_document(case, target):
    _validate(case, case.call(base_url=target.base_url, headers=target.auth), "fuzz")


@pytest.fixture
def call(target):
    """Call one documented operation with the given parts, validate the answer, check its status."""

    def call(method: str, path: str, expected: int, **parts):
        case = schema[path][method].Case(**parts)
        response = case.call(base_url=target.base_url, headers=target.auth)
        _validate(case, response, "fuzz")
        assert response.status_code == expected, response.text
        return response

    return call


def test_a_real_reservation_through_the_documented_operations(call):
    """Random tokens only ever meet 404s, so walk one real reservation through its
    operations and validate each answer against the document the same way."""
    body = {"email": "buyer@example.com", "items": [{"ticket_type_id": 1, "quantity": 2}]}
    token = call("POST", "/events/{slug}/reservations", 201, path_parameters={"slug": "demo-night"},
                 body=body).json()["token"]
    call("POST", "/events/{slug}/reservations", 409, path_parameters={"slug": "demo-night"},
         body={**body, "items": [{"ticket_type_id": 1, "quantity": 2}]})  # all_reserved
    call("GET", "/reservations/{token}", 200, path_parameters={"token": token})
    call("GET", "/events/{slug}/availability", 200, path_parameters={"slug": "demo-night"},
         query={"reservation": token})
    call("GET", "/organizer/events/{slug}/orders", 200, path_parameters={"slug": "demo-night"},
         query={"status": "reserved"})
    call("GET", "/organizer/events/{slug}/figures", 200, path_parameters={"slug": "demo-night"})
    call("POST", "/reservations/{token}/renewal", 409, path_parameters={"token": token})  # not_renewable yet
    call("DELETE", "/reservations/{token}", 200, path_parameters={"token": token})
    call("POST", "/reservations/{token}/checkout", 409, path_parameters={"token": token})


def test_a_real_place_in_line_through_the_documented_operations(app, call):
    """The same for a waiting list: the one VIP ticket is held, so buyers may join its line;
    it comes back and is offered to the first of them, the second leaves."""
    slug = {"slug": "demo-night"}

    def join(email: str) -> str:
        body = {"ticket_type_id": 2, "quantity": 1, "email": email}
        return call("POST", "/events/{slug}/waitlist", 201, path_parameters=slug, body=body).json()["token"]

    held = call("POST", "/events/{slug}/reservations", 201, path_parameters=slug,
                body={"email": "holder@example.com", "items": [{"ticket_type_id": 2, "quantity": 1}]}).json()
    first, second = join("first@example.com"), join("second@example.com")
    call("POST", "/events/{slug}/waitlist", 409, path_parameters=slug,
         body={"ticket_type_id": 2, "quantity": 1, "email": "first@example.com"})  # already_waiting
    call("GET", "/waitlist/{token}", 200, path_parameters={"token": first})
    call("DELETE", "/reservations/{token}", 200, path_parameters={"token": held["token"]})
    call("POST", "/events/{slug}/reservations", 409, path_parameters=slug,  # promised to the line: waiting_list
         body={"email": "public@example.com", "items": [{"ticket_type_id": 2, "quantity": 1}]})
    call("GET", "/events/{slug}/availability", 200, path_parameters=slug)
    with app.app_context():
        waitlist.serve(2)  # what the job the release prompted does
    assert call("GET", "/waitlist/{token}", 200, path_parameters={"token": first}).json()["state"] == "offered"
    call("DELETE", "/waitlist/{token}", 409, path_parameters={"token": first})  # has its offer
    call("DELETE", "/waitlist/{token}", 200, path_parameters={"token": second})


def test_a_real_place_in_the_waiting_room_through_the_documented_operations(frozen, call):
    """And for a waiting room: take places before the on-sale, reserve without an admission (403),
    one place leaves, the other is admitted at the instant and reserves with its admission."""
    slug = {"slug": "big-night"}
    reservation = {"email": "first@example.com", "items": [{"ticket_type_id": 3, "quantity": 1}]}
    first = call("POST", "/events/{slug}/room", 201, path_parameters=slug, body={"email": "first@example.com"}).json()
    call("POST", "/events/{slug}/room", 409, path_parameters=slug, body={"email": "first@example.com"})
    second = call("POST", "/events/{slug}/room", 201, path_parameters=slug).json()  # no body, no email
    place = {**slug, "token": first["token"]}
    call("GET", "/events/{slug}/room/places/{token}", 200, path_parameters=place)
    call("GET", "/events/{slug}/room/draw", 200, path_parameters=slug)
    call("GET", "/events/{slug}", 200, path_parameters=slug)
    call("POST", "/events/{slug}/reservations", 403, path_parameters=slug, body=reservation)  # admission_required
    call("DELETE", "/events/{slug}/room/places/{token}", 200, path_parameters={**slug, "token": second["token"]})
    frozen.advance(ROOM_ON_SALE)
    admitted = call("GET", "/events/{slug}/room/places/{token}", 200, path_parameters=place).json()
    assert admitted["phase"] == "admitted"
    call("POST", "/events/{slug}/reservations", 201, path_parameters=slug,
         body={**reservation, "admission": admitted["admission"]})
    call("POST", "/events/{slug}/reservations", 403, path_parameters=slug,  # admission_invalid: used
         body={**reservation, "email": "again@example.com", "admission": admitted["admission"]})
    draw = call("GET", "/events/{slug}/room/draw", 200, path_parameters=slug).json()
    assert draw["drawn"] == 2 and sorted(draw["order"]) == [1, 2]  # both drawn: the one who left too


def test_reservation_workflows_follow_the_documented_links(target):
    """Stateful: reserve, or take a place in the room, then follow the 201's links (read, release,
    check out; read the place, leave) with the real token. Each scenario starts from the same data,
    so replays behave the same."""

    class Workflow(schema.as_state_machine()):
        def setup(self):
            target.reset()

        def get_call_kwargs(self, case):
            return {"base_url": target.base_url, "headers": target.auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            _validate(case, response, "stateful")

    Workflow.run(settings=settings(max_examples=40, stateful_step_count=8, deadline=None, derandomize=True,
                                   suppress_health_check=list(HealthCheck)))

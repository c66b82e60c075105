"""The OpenAPI document is served, valid, and describes exactly the routes the app has."""
from __future__ import annotations

import re

import schemathesis

API = "/api/v1"
IMPLICIT = {"HEAD", "OPTIONS"}  # answered by Flask for every route


def _routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(API):])
            routes |= {(method, path) for method in rule.methods - IMPLICIT}
    return routes


def test_the_document_describes_every_route_and_nothing_else(app, client):
    document = client.get(f"{API}/openapi.json").json
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}

    assert documented == _routes(app)
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": API}]


def test_the_document_is_valid_openapi_3_1_with_unique_operation_ids(client):
    document = client.get(f"{API}/openapi.json").json
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # against the OpenAPI 3.1 meta-schema; raises on any mistake
    operations = [result.ok() for result in schema.get_all_operations()]
    ids = [op.definition.raw["operationId"] for op in operations]
    assert len(ids) == len(set(ids)) == sum(len(item) for item in document["paths"].values())

"""Buyers retrying after a sell-out are refused from the shared cache, without a query."""
from sqlalchemy import event as sa_event

from eventsite.domain.models import TicketType
from eventsite.infra.db import db

URL = "/api/v1/events/rush/reservations"


def test_a_retry_after_the_sell_out_is_refused_without_a_query(ctx, client, make_event, frozen, table_counts):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5, "per_order_limit": 5}, slug="rush")
    body = {"email": "ann@example.test", "items": [{"ticket_type_id": ga, "quantity": 5}]}
    assert client.post(URL, json=body).status_code == 201
    body = {**body, "email": "retrying@example.test"}  # others retry (ann has her hold)
    assert client.post(URL, json=body).status_code == 409  # warms the cache
    before = table_counts()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(db.engine, "before_cursor_execute", listener)
    try:
        again = client.post(URL, json=body)
        too_many = client.post(URL, json={**body, "items": [{"ticket_type_id": ga, "quantity": 6}]})
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", listener)
    assert (again.status_code, again.json["error"]["code"]) == (409, "all_reserved")  # held, not yet sold
    assert too_many.status_code == 422 and "At most 5" in too_many.json["error"]["message"]
    assert statements == [] and table_counts() == before

    tt = db.session.get(TicketType, ga)
    tt.capacity = 6  # the organizer adds a ticket: the copy of the catalog is dropped with the figures
    db.session.commit()
    one = {**body, "items": [{"ticket_type_id": ga, "quantity": 1}]}
    assert client.post(URL, json=one).status_code == 201

"""Deleting a draft event or an unused ticket type (confirmed, owner only, refused once used),
and finding an order on the orders page by one of its ticket codes."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from dashboard_helpers import csrf_token, post, refused, reserve
from sqlalchemy import func, select

from eventsite.domain.models import Event, Order, TicketType, WaitingRoom, WaitlistEntry, WaitlistStatus
from eventsite.infra.db import db
from eventsite.readmodels.tickets import code_for

ORDER_LINK = re.compile(r'/dashboard/events/\d+/orders/(\d+)"')


@pytest.fixture
def draft(app, world, make_event):
    """An unpublished event of the owner's with two ticket types and a waiting room, nobody ordered."""
    event_id, tt_ids = make_event({"name": "Early bird", "capacity": 5}, {"name": "Late", "capacity": 5},
                                  slug="draft", published=False, organizer_email="owner@example.test")
    with app.app_context():
        db.session.add(WaitingRoom(event_id=event_id, seed="s", seed_hash="h"))
        db.session.commit()
    return event_id, tt_ids


def count(app, model, *criteria) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def test_a_draft_event_is_deleted_with_its_ticket_types_and_room_after_confirming(app, owner, draft):
    event_id, tt_ids = draft
    page = owner.get(f"/dashboard/events/{event_id}")
    assert f"/dashboard/events/{event_id}/delete" in page.get_data(as_text=True)
    confirm = owner.get(f"/dashboard/events/{event_id}/delete")
    body = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Early bird, Late" in body and "its waiting room" in body
    assert count(app, Event, Event.id == event_id) == 1  # looking changes nothing

    response = post(owner, f"/dashboard/events/{event_id}/delete")
    assert response.status_code == 302 and response.location.endswith("/dashboard/")
    assert "“Event draft” was deleted." in owner.get("/dashboard/").get_data(as_text=True)
    assert count(app, Event, Event.id == event_id) == 0
    assert count(app, TicketType, TicketType.id.in_(tt_ids)) == 0
    assert count(app, WaitingRoom, WaitingRoom.event_id == event_id) == 0
    assert owner.get(f"/dashboard/events/{event_id}").status_code == 404


def test_a_published_event_is_refused_until_unpublished(app, owner, draft, snapshot):
    event_id, _ = draft
    post(owner, f"/dashboard/events/{event_id}/publication", {"published": "1"})
    assert f"/dashboard/events/{event_id}/delete" not in owner.get(f"/dashboard/events/{event_id}").get_data(
        as_text=True)
    refused(owner, f"/dashboard/events/{event_id}/delete", "A published event cannot be deleted: unpublish it first.",
            snapshot)


@pytest.mark.parametrize("use", ["lapsed order", "waiting list place"])
def test_an_event_anything_referred_to_is_refused(app, frozen, owner, draft, snapshot, use):
    event_id, (early, _) = draft
    with app.app_context():
        if use == "lapsed order":  # placed while it was on sale, long lapsed: still an order
            db.session.get(Event, event_id).published = True
            db.session.commit()
            reserve(event_id, {early: 1})
            db.session.get(Event, event_id).published = False
            db.session.commit()
        else:
            db.session.add(WaitlistEntry(event_id=event_id, ticket_type_id=early, email="w@example.test",
                                         quantity=1, status=WaitlistStatus.LEFT))
            db.session.commit()
    frozen.advance(timedelta(hours=1))  # the hold lapsed: it still refers to the event
    expected = "it has orders" if use == "lapsed order" else "it has places on a waiting list"
    assert expected in owner.get(f"/dashboard/events/{event_id}/delete").get_data(as_text=True)
    response = refused(owner, f"/dashboard/events/{event_id}/delete", expected, snapshot)
    assert "Delete event</button>" not in response.get_data(as_text=True)


def test_an_unused_ticket_type_is_deleted_but_an_ordered_or_awaited_one_is_refused(app, world, owner, snapshot):
    ga, vip = world.ticket_type_ids  # GA has a hold, VIP was paid
    with app.app_context():
        event = db.session.get(Event, world.event_id)
        spare = TicketType(event=event, name="Spare", price=0, capacity=3)
        awaited = TicketType(event=event, name="Awaited", price=0, capacity=0)
        db.session.add_all([spare, awaited])
        db.session.flush()
        db.session.add(WaitlistEntry(event_id=world.event_id, ticket_type_id=awaited.id, email="w@example.test",
                                     quantity=1, status=WaitlistStatus.WAITING))
        db.session.commit()
        spare_id, awaited_id = spare.id, awaited.id
    base = f"/dashboard/events/{world.event_id}/ticket-types"
    for tt_id, reason in ((ga, "“GA” cannot be deleted: it has orders"),
                          (vip, "“VIP” cannot be deleted: it has orders"),
                          (awaited_id, "“Awaited” cannot be deleted: it has places on a waiting list")):
        refused(owner, f"{base}/{tt_id}/delete", reason, snapshot)

    confirm = owner.get(f"{base}/{spare_id}/delete").get_data(as_text=True)
    assert "Delete the ticket type “Spare”?" in confirm and "Delete ticket type</button>" in confirm
    response = post(owner, f"{base}/{spare_id}/delete")
    assert response.status_code == 302 and response.location.endswith(f"/dashboard/events/{world.event_id}")
    page = owner.get(f"/dashboard/events/{world.event_id}").get_data(as_text=True)
    assert "Ticket type “Spare” was deleted." in page
    assert count(app, TicketType, TicketType.id == spare_id) == 0
    assert count(app, TicketType, TicketType.event_id == world.event_id) == 3


def test_only_the_owner_may_delete_and_only_with_a_csrf_token(app, world, owner, other, draft, snapshot):
    event_id, (early, _) = draft
    before = snapshot()
    for client, path in ((other, f"/dashboard/events/{event_id}/delete"),
                         (other, f"/dashboard/events/{event_id}/ticket-types/{early}/delete"),
                         # the owner's event with another organizer's ticket type
                         (owner, f"/dashboard/events/{event_id}/ticket-types/{world.other_ticket_type_id}/delete")):
        assert client.get(path).status_code == 404
        assert client.post(path, data={"csrf_token": csrf_token(client)}).status_code == 404
    assert owner.post(f"/dashboard/events/{event_id}/delete").status_code == 400  # no CSRF token
    assert snapshot() == before


# --- finding an order by ticket code ---------------------------------------------------------

def listed(client, event_id: int, query: dict) -> tuple[int, list[int], str]:
    response = client.get(f"/dashboard/events/{event_id}/orders", query_string=query)
    body = response.get_data(as_text=True)
    return response.status_code, [int(n) for n in ORDER_LINK.findall(body)], body


def test_a_ticket_code_finds_its_order(app, world, owner):
    with app.app_context():
        code = code_for(world.paid_order_id, 1, db.session.get(Order, world.paid_order_id).token)
    status, orders, body = listed(owner, world.event_id, {"ticket": code})
    assert (status, orders) == (200, [world.paid_order_id])
    assert f'value="{code}"' in body  # the search stays in its field
    # as typed at a desk: lower case, spaces around; and with other filters still applied
    assert listed(owner, world.event_id, {"ticket": f"  {code.lower()} "})[1] == [world.paid_order_id]
    assert listed(owner, world.event_id, {"ticket": code, "status": "reserved"})[1] == []
    assert listed(owner, world.event_id, {"email": "payer"})[1] == [world.paid_order_id]  # email filter as before


def test_a_forged_or_other_events_code_finds_nothing(app, world, owner):
    with app.app_context():
        paid = code_for(world.paid_order_id, 1, db.session.get(Order, world.paid_order_id).token)
        theirs = code_for(world.other_order_id, 1, db.session.get(Order, world.other_order_id).token)
    forged = paid[:-1] + ("0" if paid[-1] != "0" else "1")
    for code in (forged, theirs, paid.replace("-1-", "-2-", 1), "ES-999999999999-1-0123456789ABCDEF"):
        status, orders, body = listed(owner, world.event_id, {"ticket": code})
        assert (status, orders) == (200, []), code
        assert "No order has that ticket." in body


def test_text_that_is_no_ticket_code_is_refused(world, owner):
    status, orders, body = listed(owner, world.event_id, {"ticket": "payer@example.test"})
    assert status == 422 and orders == []
    assert "That is not a ticket code" in body

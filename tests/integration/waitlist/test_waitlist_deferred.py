"""Waiting-list places asked for from a waiting room, against PostgreSQL, Redis and SMTP: deferred
while the room guards the sale (not demand, promised nothing), in line in the order they asked when
the room closes sold out, ended when it closes because sales ended, and never lost to a crash
between the room's closing and their activation (the sweep)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fixtures_mail import text_of
from room_support import ON_SALE, pay
from shop_support import csrf_from
from sqlalchemy import select

from eventsite.domain.errors import InvalidRequest
from eventsite.domain.models import Event, TicketType, WaitlistEntry, WaitlistStatus
from eventsite.infra.db import db
from eventsite.readmodels import availability, waitlist_places
from eventsite.services import expiry, reserving, waiting_room, waitlist, waitlist_deferred

W, D, C = WaitlistStatus.WAITING, WaitlistStatus.DEFERRED, WaitlistStatus.CLOSED


def statuses(event_id: int) -> list[tuple[str, WaitlistStatus]]:
    db.session.expire_all()  # jobs and requests ran in sessions of their own
    return [(e.email, e.status) for e in db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.event_id == event_id).order_by(WaitlistEntry.id))]


def public(event_id: int, ga: int) -> tuple:
    """What the public is told about GA: available, promised to the line, people and tickets waiting."""
    shown = availability.for_display(event_id)[ga]
    counted = availability.figures(event_id)[ga]
    assert (shown.available, shown.promised, shown.waiting_people) == (
        counted.available, counted.promised, counted.waiting_people)
    return counted.available, counted.promised, counted.waiting_people, counted.waiting


def sell_out(frozen, ga: int, quantity: int) -> None:
    """Through the room: a buyer joins, is admitted at the on-sale and pays for every ticket; the next
    poll's tick closes the room sold out."""
    buyer = waiting_room.join("onsale", "buyer@example.test")
    frozen.advance(ON_SALE - frozen.now())
    admitted = waiting_room.place("onsale", buyer.token)
    order = reserving.reserve("onsale", {ga: quantity}, "buyer@example.test", admission=admitted.admission)
    pay(order.id)
    frozen.advance(timedelta(seconds=1))
    assert waiting_room.place("onsale", buyer.token).phase == waiting_room.CLOSED


def end_sales(frozen, event_id: int, ga: int) -> None:
    """Sales of the only ticket type end a second from now; the room's next tick closes it."""
    db.session.get(TicketType, ga).sales_end = frozen.now() + timedelta(seconds=1)
    db.session.commit()
    frozen.advance(timedelta(seconds=1))
    waiting_room.run_tick(event_id, frozen.now())


def live_text(client, token: str) -> str:
    page = client.get(f"/w/{token}")
    assert page.status_code == 200
    match = re.search(r'<section id="waiting-live".*?</section>', page.text, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", match.group(0)).split())


# --- asking from the room -------------------------------------------------------------

def test_a_place_asked_for_while_the_room_guards_is_deferred_even_with_tickets_left(
        room_event, frozen, rq_redis, run_jobs, inbox):
    event_id, ga = room_event(capacity=3)  # the room is open; the on-sale is in 30 minutes
    before = public(event_id, ga)
    assert before == (3, 0, 0, 0)
    first = waitlist.join("onsale", ga, 2, "First@example.test")
    frozen.advance(ON_SALE - frozen.now())  # on sale now, 3 tickets available, and the room still guards
    waitlist.join("onsale", ga, 4, "second@example.test")
    assert statuses(event_id) == [("first@example.test", D), ("second@example.test", D)]
    assert public(event_id, ga) == before  # not demand, promised nothing: the figures for the public unchanged
    place = waitlist_places.place(first.token)
    assert (place.state, place.position) == ("deferred", None)

    # One place per address and ticket type; every refusal but "reserve instead" still applies.
    with pytest.raises(waitlist.AlreadyWaiting, match="first@example.test is already on the waiting list"):
        waitlist.join("onsale", ga, 1, " first@EXAMPLE.test")
    with pytest.raises(InvalidRequest, match="between 1 and 4"):
        waitlist.join("onsale", ga, 5, "third@example.test")
    assert len(statuses(event_id)) == 2

    # An admitted buyer can still buy all 3: nothing was promised to the deferred places.
    buyer = waiting_room.join("onsale", "buyer@example.test")
    admitted = waiting_room.place("onsale", buyer.token)
    assert reserving.reserve("onsale", {ga: 3}, "buyer@example.test", admission=admitted.admission).quantity == 3

    run_jobs()
    [joined] = inbox.to("first@example.test")
    assert joined["Subject"] == "Your place on the waiting list for Event onsale"
    said = " ".join(text_of(joined).split())
    assert "You join the waiting list if the sale sells out." in said
    assert "You are not in line yet" in said and f"/w/{first.token}" in said
    assert len(inbox.to("second@example.test")) == 1


# --- the room closes ------------------------------------------------------------------

def test_a_sell_out_puts_the_deferred_places_in_line_in_the_order_they_asked(room_event, frozen, rq_redis, run_jobs):
    event_id, ga = room_event(capacity=2)
    entries = [waitlist.join("onsale", ga, q, f"d{i}@example.test") for i, q in enumerate((2, 1, 1))]
    gone = waitlist.join("onsale", ga, 1, "gone@example.test")
    waitlist.leave(gone.token)
    sell_out(frozen, ga, 2)

    assert statuses(event_id) == [("d0@example.test", W), ("d1@example.test", W), ("d2@example.test", W),
                                  ("gone@example.test", WaitlistStatus.LEFT)]
    assert [waitlist_places.place(e.token).position for e in entries] == [1, 2, 3]
    assert public(event_id, ga) == (0, 0, 3, 4)  # now they are demand
    # Served as usual: one ticket comes back; the head wants 2, so nobody is offered yet; two: the head.
    ticket_type = db.session.get(TicketType, ga)
    ticket_type.capacity = 3
    db.session.commit()
    run_jobs("default")
    assert waitlist.serve(ga) == []
    ticket_type.capacity = 4
    db.session.commit()
    run_jobs("default")
    assert [e for e, s in statuses(event_id) if s == WaitlistStatus.OFFERED] == ["d0@example.test"]

    # Once only: a second closing (another process, the sweep) changes nothing.
    assert waitlist_deferred.activate_deferred(event_id, "sold_out") == 0
    expiry.sweep()
    assert statuses(event_id)[1:] == [("d1@example.test", W), ("d2@example.test", W),
                                      ("gone@example.test", WaitlistStatus.LEFT)]


def test_sales_ending_ends_the_deferred_places_and_tells_them(room_event, frozen, client, rq_redis, run_jobs, inbox):
    event_id, ga = room_event(capacity=2)
    entry = waitlist.join("onsale", ga, 1, "d@example.test")
    run_jobs()  # the joined message, while the place is deferred
    frozen.advance(ON_SALE - frozen.now())
    end_sales(frozen, event_id, ga)
    assert db.session.get(Event, event_id).waiting_room.closed_reason == "sales_ended"
    assert statuses(event_id) == [("d@example.test", C)]
    assert public(event_id, ga) == (2, 0, 0, 0)

    run_jobs()
    [joined, closed] = inbox.to("d@example.test")
    said = " ".join(text_of(closed).split())
    assert "Sales ended before the tickets sold out" in said and "did not open" in said
    assert "organizer" not in said
    shown = live_text(client, entry.token)
    assert "Sales ended before the tickets sold out" in shown and "your place has ended" in shown
    assert waitlist_deferred.activate_deferred(event_id, "sales_ended") == 0  # told once
    run_jobs()
    assert len(inbox.to("d@example.test")) == 2


def test_a_closing_lost_before_the_activation_is_picked_up_by_the_sweep(
        room_event, frozen, client, monkeypatch, rq_redis):
    event_id, ga = room_event(capacity=2)
    deferred = [waitlist.join("onsale", ga, 1, f"{n}@example.test") for n in ("a", "dup")]

    def crash(*_args):
        raise RuntimeError("the process died after the room's commit")

    monkeypatch.setattr(waitlist_deferred, "activate_deferred", crash)
    with pytest.raises(RuntimeError):
        sell_out(frozen, ga, 2)
    monkeypatch.undo()
    assert db.session.get(Event, event_id).waiting_room.closed_reason == "sold_out"
    assert statuses(event_id) == [("a@example.test", D), ("dup@example.test", D)]
    # Meanwhile the room no longer guards: a normal join (sold out), by an address deferred already.
    again = waitlist.join("onsale", ga, 2, "dup@example.test")
    assert public(event_id, ga) == (0, 0, 1, 2)  # the deferred places still count for nothing

    expiry.sweep()
    assert statuses(event_id) == [("a@example.test", W), ("dup@example.test", C), ("dup@example.test", W)]
    assert [waitlist_places.place(p.token).position for p in (deferred[0], again)] == [1, 2]  # asked first
    shown = live_text(client, deferred[1].token)
    assert "You were already on the waiting list" in shown and "that earlier place is the one that counts" in shown
    expiry.sweep()
    assert statuses(event_id) == [("a@example.test", W), ("dup@example.test", C), ("dup@example.test", W)]


def test_the_organizer_closing_the_line_ends_deferred_places_too(room_event, frozen, client, rq_redis, run_jobs,
                                                                inbox):
    event_id, ga = room_event(capacity=2)
    entry = waitlist.join("onsale", ga, 1, "d@example.test")
    waitlist.set_state(db.session.get(TicketType, ga), "closed")
    assert statuses(event_id) == [("d@example.test", C)]
    sell_out(frozen, ga, 2)
    assert statuses(event_id) == [("d@example.test", C)]  # nothing left to activate
    run_jobs()
    assert "The organizer has closed the waiting list for GA" in text_of(inbox.to("d@example.test")[-1])
    assert "The organizer closed the waiting list for GA" in live_text(client, entry.token)


# --- the pages ----------------------------------------------------------------------------

def test_the_room_page_form_defers_a_place_that_the_waiting_page_shows_plainly(app, client, room_event, frozen):
    with app.app_context():
        event_id, ga = room_event(capacity=3)
    csrf = csrf_from(client.get("/events/onsale").text)
    joined = client.post("/events/onsale/waitlist", data={
        "csrf_token": csrf, "ticket_type_id": str(ga), "quantity": "2", "email": "d@example.test"})
    assert joined.status_code == 303
    token = joined.headers["Location"].removeprefix("/w/")
    with app.app_context():
        assert statuses(event_id) == [("d@example.test", D)]

    page = client.get(f"/w/{token}").text
    shown = live_text(client, token)
    assert "You will join the waiting list if the sale sells out; you are not in line yet" in shown
    assert "in line" not in shown.replace("not in line yet", "")  # no position
    assert f'<a href="/w/{token}/leave">Leave the waiting list</a>' in page
    assert f'hx-get="/w/{token}/status"' in page  # it polls, to show the place joining the line
    api = client.get(f"/api/v1/waitlist/{token}").get_json()
    assert (api["state"], api["position"], api["people_waiting"]) == ("deferred", None, 0)

    confirm = client.get(f"/w/{token}/leave")
    assert confirm.status_code == 200
    assert "You are not in line yet. Leaving gives up your turn to join it if the sale sells out" in " ".join(
        re.sub(r"<[^>]+>", "", confirm.text).split())
    left = client.post(f"/w/{token}/leave", data={"csrf_token": csrf_from(confirm.text)})
    assert (left.status_code, left.headers["Location"]) == (303, f"/w/{token}")
    assert "You left the waiting list" in live_text(client, token)
    with app.app_context():
        assert statuses(event_id) == [("d@example.test", WaitlistStatus.LEFT)]

"""The embedded default: scanning, the second scan and undo on SQLite (BEGIN IMMEDIATE) too."""
from __future__ import annotations

from datetime import timedelta

from dashboard_helpers import add_organizer, pay, reserve, sqlite_app

from eventsite.domain.clock import now
from eventsite.domain.models import Event, Order, Organizer, TicketType
from eventsite.infra.db import db
from eventsite.readmodels import checkins, tickets
from eventsite.services.checkin import check_in, undo


def test_check_in_on_sqlite(tmp_path, frozen):
    app = sqlite_app(tmp_path)
    with app.app_context():
        add_organizer("solo@example.test")
        organizer = db.session.query(Organizer).one()
        event = Event(organizer=organizer, slug="small", title="Small", published=True,
                      starts_at=now() + timedelta(days=3),
                      ticket_types=[TicketType(name="GA", price=1000, capacity=10)])
        db.session.add(event)
        db.session.commit()
        order_id = reserve(event.id, {event.ticket_types[0].id: 2}).id
        pay(order_id)
        codes = [t.code for t in tickets.tickets(db.session.get(Order, order_id))]

        first = check_in(event, codes[1], device="Door", by="solo@example.test")
        assert (first.outcome, first.seat, first.ticket_type) == ("valid", 2, "GA")
        again = check_in(event, codes[1], device="Other", by="solo@example.test")
        assert (again.outcome, again.device, again.checked_in_at) == ("already", "Door", first.checked_in_at)
        assert checkins.checked_in_by_type(event.id) == {event.ticket_types[0].id: 1}
        undo(first.checkin_id, by="solo@example.test")
        assert check_in(event, codes[1], device="Other", by="solo@example.test").outcome == "valid"
        assert check_in(event, codes[0][:-1] + "Z", device="", by="solo@example.test").outcome == "unreadable"
        db.engine.dispose()

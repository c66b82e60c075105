"""Renewing a hold from the reservation page, through the Flask test client: "Need more time?" in
the hold's last minutes only, a renewal that moves the expiry shown and polled, and every refusal
answered 409 with the service's message while the hold stays exactly as it was."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from shop_support import HX, buyer, csrf_from, hold_for_other  # noqa: F401 (fixtures)
from testenv import T0

from eventsite.domain import state_machine
from eventsite.domain.models import Order, OrderEvent, OrderStatus
from eventsite.infra.db import db
from eventsite.infra.transactions import write_transaction
from eventsite.readmodels import lookups
from eventsite.services import waitlist

NEED_MORE_TIME = "Need more time?"


@pytest.fixture
def hold(app, buyer, frozen, make_event, rq_redis):
    """Ann holds 1 of the 2 GA tickets at T0 for 15 minutes; returns a handle on her hold."""

    def place(**event_fields):
        event_id, (ga,) = make_event({"name": "GA", "capacity": 2}, **event_fields)
        location = buyer.reserve({ga: 1}, email="ann@example.test").headers["Location"]
        return Hold(app, buyer.http, location, event_id, ga)

    return place


class Hold:
    def __init__(self, app, http, location, event_id, ticket_type_id):
        self.app, self.http, self.location = app, http, location
        self.event_id, self.ga = event_id, ticket_type_id
        self.token = location.rsplit("/", 1)[1]

    def page(self):
        return self.http.get(self.location).text

    def status(self):
        return self.http.get(f"{self.location}/status", headers=HX).text

    def renew(self, headers=HX, csrf=True):
        data = {"csrf_token": csrf_from(self.page())} if csrf else {}
        return self.http.post(f"{self.location}/renew", data=data, headers=headers)

    def stored(self):
        """(expires_at, renewals, audit rows) as the database has them now."""
        with self.app.app_context():
            order = lookups.order_by_token(self.token)
            audit = db.session.query(OrderEvent).filter_by(order_id=order.id).count()
            return order.expires_at, order.renewals, audit


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_need_more_time_shows_only_in_the_last_three_minutes(hold, frozen):
    ann = hold()
    assert NEED_MORE_TIME not in ann.page()
    frozen.advance(timedelta(minutes=11, seconds=59))  # 3:01 left
    assert NEED_MORE_TIME not in ann.status()
    frozen.advance(timedelta(seconds=1))  # 3:00 left: the window opens, the next poll shows it
    for html in (ann.status(), ann.page()):
        assert NEED_MORE_TIME in html
        assert "Keep my tickets for 5 more minutes" in text(html) and "10 renewals left." in text(html)
        assert f'hx-post="{ann.location}/renew"' in html and 'name="csrf_token"' in html
    frozen.advance(timedelta(minutes=3))  # lapsed: nothing to renew
    assert NEED_MORE_TIME not in ann.page() and "Your reservation expired" in ann.page()


def test_the_page_carries_the_alert_dialog_and_its_script(hold):
    page = hold().page()
    dialog = re.search(r"<dialog id=\"renew-dialog\"(.*?)</dialog>", page, re.S)
    assert dialog, "no renewal dialog on the reservation page"
    assert 'role="alertdialog"' in dialog.group(0)
    assert 'aria-labelledby="renew-dialog-title"' in dialog.group(0)
    assert 'aria-describedby="renew-dialog-text"' in dialog.group(0)
    assert re.search(r'id="renew-dialog-keep">Keep my tickets</button>', dialog.group(0))
    assert '<form method="dialog"><button type="submit" class="secondary">Let them go</button>' in dialog.group(0)
    assert 'src="/static/renewal.js"' in page
    assert re.search(r'<p id="hold-announcer" class="visually-hidden" aria-live="polite"', page)


def test_renewing_moves_the_expiry_shown_and_polled(hold, frozen):
    ann = hold()
    frozen.advance(timedelta(minutes=13))  # 2:00 left
    response = ann.renew()
    assert response.status_code == 200 and "<html" not in response.text  # htmx swaps the reservation
    assert 'data-expires-at="2026-06-01T12:20:00.000+00:00"' in response.text and ">07:00</time>" in response.text
    assert "Done: your tickets are reserved for 5 more minutes. 9 renewals left." in text(response.text)
    assert re.search(r'<div id="hold-status"[^>]* autofocus', response.text)  # keyboard users land on it
    assert NEED_MORE_TIME not in response.text  # 7 minutes left: outside the window again
    expires_at, renewals, _ = ann.stored()
    assert (expires_at, renewals) == (T0 + timedelta(minutes=20), 1)
    polled = ann.status()
    assert 'data-expires-at="2026-06-01T12:20:00.000+00:00"' in polled and ">07:00</time>" in polled
    assert "autofocus" not in polled  # only the renewal's answer moves the focus
    with ann.app.app_context():
        last = db.session.query(OrderEvent).filter_by(order_id=lookups.order_by_token(ann.token).id) \
            .order_by(OrderEvent.id.desc()).first()
        assert last.actor == "buyer:ann@example.test" and last.reason.startswith("hold renewed until")


def test_renewing_without_htmx_answers_with_the_whole_page(hold, frozen):
    ann = hold()
    frozen.advance(timedelta(minutes=14))
    response = ann.renew(headers={})
    assert response.status_code == 200 and "<html" in response.text
    assert ">06:00</time>" in response.text and "Done: your tickets are reserved for 5 more minutes." in response.text


def test_a_renewal_too_early_is_refused_and_changes_nothing(hold, frozen):
    ann = hold()
    before = ann.stored()
    response = ann.renew()
    assert response.status_code == 409
    assert "More time can be asked for in the last 3 minutes of the hold." in response.text
    assert re.search(r'<div id="renew-result"[^>]*role="alert"[^>]*autofocus', response.text)
    assert ">15:00</time>" in response.text  # the hold as it still is
    assert ann.stored() == before


def test_a_renewal_past_the_limit_is_refused_and_the_offer_is_gone(hold, frozen):
    ann = hold(max_renewals=1)
    frozen.advance(timedelta(minutes=13))
    assert ann.renew().status_code == 200
    frozen.advance(timedelta(minutes=5))  # 2:00 left again, but no renewal left
    assert NEED_MORE_TIME not in ann.status() and 'id="renew-dialog"' not in ann.page()
    before = ann.stored()
    response = ann.renew()
    assert response.status_code == 409
    assert "This hold has been renewed as often as the organizer allows." in response.text
    assert ann.stored() == before


def test_a_lapsed_hold_cannot_be_renewed(hold, frozen):
    ann = hold()
    frozen.advance(timedelta(minutes=15))
    before = ann.stored()
    for headers in (HX, {}):
        response = ann.renew(headers=headers)
        assert response.status_code == 409
        assert "This hold has ended; there is nothing to renew. Reserve again." in response.text
        assert "Your reservation expired" in response.text and "Try again: reserve 1 ticket" in response.text
    assert ann.stored() == before


def test_a_hold_gone_to_payment_cannot_be_renewed(hold, frozen):
    ann = hold()
    frozen.advance(timedelta(minutes=13))
    csrf = csrf_from(ann.page())  # a tab left open while paying in another
    with ann.app.app_context(), write_transaction():
        order = db.session.query(Order).filter_by(token=ann.token).one()
        state_machine.transition(order, OrderStatus.PAYMENT_PROCESSING, reason="checkout started")
    before = ann.stored()
    response = ann.http.post(f"{ann.location}/renew", data={"csrf_token": csrf}, headers=HX)
    assert response.status_code == 409
    assert "Payment for these tickets has started, so the hold can no longer be renewed." in response.text
    assert "Payment for your tickets has started" in response.text and "Your reservation expired" not in response.text
    assert f'href="{ann.location}">Go to your payment</a>' in response.text
    assert ann.stored() == before


def test_a_renewal_is_refused_while_another_buyer_waits(app, hold, frozen, hold_for_other):
    ann = hold()
    hold_for_other(ann.event_id, {ann.ga: 1}, email="bob@example.test")  # the last ticket
    with app.app_context():
        waitlist.join("rush", ann.ga, 1, "wait@example.test")
    frozen.advance(timedelta(minutes=13))
    assert NEED_MORE_TIME in ann.status()  # the window is open; only the locked service knows who waits
    before = ann.stored()
    response = ann.renew()
    assert response.status_code == 409
    assert "Other buyers are waiting for these tickets, so this hold cannot be renewed. Pay now to keep them." \
        in text(response.text)
    assert ">02:00</time>" in response.text and ann.stored() == before


def test_renewing_without_a_csrf_token_is_refused(hold, frozen):
    ann = hold()
    frozen.advance(timedelta(minutes=13))
    before = ann.stored()
    assert ann.renew(csrf=False).status_code == 400
    assert ann.stored() == before


def test_an_unknown_reservation_cannot_be_renewed(client, hold):
    ann = hold()
    response = client.post("/r/not-a-real-token/renew", data={"csrf_token": csrf_from(ann.page())})
    assert response.status_code == 404

""""Find my tickets": a known address receives one message linking its orders; an unknown
one gets the same page and no message; each address and each client is rate limited."""
from __future__ import annotations

import re

import pytest
import requests
from fixtures_mail import text_of
from sqlalchemy import func, select

from eventsite import create_app
from eventsite.domain.models import Obligation
from eventsite.infra.db import db


def _ask(base_url: str, email: str) -> requests.Response:
    http = requests.Session()
    form = http.get(f"{base_url}/tickets", timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return http.post(f"{base_url}/tickets", data={"csrf_token": token, "email": email}, timeout=5)


def _page(response: requests.Response, email: str) -> str:
    """What the buyer reads, with the address they typed taken out."""
    main = re.search(r"<main.*?</main>", response.text, re.S).group(0)
    return re.sub(r'name="csrf-token" content="[^"]+"', "", main).replace(email, "ADDRESS")


def test_a_known_address_gets_one_message_linking_its_orders_and_an_unknown_one_nothing_observable(
        app, make_event, buyer, devstripe, inbox, run_jobs, live_server, settings):
    settings(PUBLIC_URL=live_server)
    event_id, (ga,) = make_event({"name": "GA", "capacity": 5})
    paid = buyer.reserve(event_id, {ga: 2}, email="Fan@Example.test")
    devstripe.click(buyer.checkout(paid.token), "pay")
    devstripe.wait_delivered("checkout.session.completed")
    held = buyer.reserve(event_id, {ga: 1}, email="fan@example.test")
    run_jobs()
    inbox.clear()

    known = _ask(live_server, "fan@example.test")
    unknown = _ask(live_server, "nobody@example.test")
    assert known.status_code == unknown.status_code == 200
    assert _page(known, "fan@example.test") == _page(unknown, "nobody@example.test")
    assert "If there are orders for" in known.text
    run_jobs("mail")

    [message] = inbox.messages
    assert message["To"] == "fan@example.test" and message["Subject"] == "Your orders at eventsite"
    links = re.findall(r"https?://\S+", text_of(message))
    assert f"{live_server}/r/{paid.token}/payment" in links and f"{live_server}/r/{held.token}" in links
    assert "2 tickets, paid: your tickets" in text_of(message)
    assert "Payment received" in requests.get(f"{live_server}/r/{paid.token}/payment", timeout=5).text


def test_a_bad_address_is_refused_with_a_message(client):
    page = client.get("/tickets").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = client.post("/tickets", data={"csrf_token": token, "email": "not-an-address"})
    assert refused.status_code == 422 and "Enter a valid email address." in refused.get_data(as_text=True)
    assert client.post("/tickets", data={"email": "a@b.test"}).status_code == 400  # no CSRF token


def test_the_form_is_on_the_front_page_and_every_event_page(client, make_event):
    make_event()
    for path in ("/", "/events/rush"):
        assert 'action="/tickets"' in client.get(path).get_data(as_text=True), path


@pytest.fixture
def limited_app(limited):
    return limited(WTF_CSRF_ENABLED=False, FIND_TICKETS_RATE_LIMIT="2/hour", FIND_TICKETS_CLIENT_RATE_LIMIT="3/hour")


def _promises(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Obligation))


def test_each_address_and_each_client_is_rate_limited(limited_app):
    client = limited_app.test_client()
    ask = lambda email, addr="10.0.0.1": client.post(  # noqa: E731
        "/tickets", data={"email": email}, environ_base={"REMOTE_ADDR": addr}).status_code

    assert [ask("a@example.test", f"10.0.1.{n}") for n in range(3)] == [200, 200, 429]  # per address
    assert [ask(f"{n}@example.test") for n in range(4)] == [200, 200, 200, 429]  # per client
    assert _promises(limited_app) == 5  # a refused request promised nothing

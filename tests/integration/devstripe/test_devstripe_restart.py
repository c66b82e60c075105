"""The dev payment server keeps its state in its SQLite file: a restarted server still knows
earlier sessions, payments, events and idempotency keys, so earlier orders stay refundable."""
from __future__ import annotations

import time

import pytest
import requests
import stripe

from devtools.devstripe import start_devstripe, stop_devstripe

API_KEY = "sk_test_restart"  # the key this test's servers accept
UNREACHABLE_APP = "http://127.0.0.1:9"  # webhooks fail there; the server just records the attempts


def client(base_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": base_url}, max_network_retries=0)


def create_session(base_url: str, order_token: str = "tok-1"):
    """The call the app makes (eventsite.gateways.stripe.create_checkout_session), key and all."""
    params = {
        "mode": "payment",
        "customer_email": "buyer@example.test",
        "client_reference_id": order_token,
        "metadata": {"order_token": order_token, "order_id": "1"},
        "line_items": [{"quantity": 2, "price_data": {"currency": "eur", "unit_amount": 1500,
                                                      "product_data": {"name": "Concert: Standing"}}}],
        "success_url": "http://shop.test/orders/ok?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://shop.test/orders/cancel",
        "expires_at": int(time.time()) + 3600,
    }
    return client(base_url).v1.checkout.sessions.create(params, {"idempotency_key": f"checkout-{order_token}"})


def pay(checkout_url: str) -> None:
    """Press Pay on the hosted page, as a buyer does."""
    answer = requests.post(f"{checkout_url}/pay", allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("http://shop.test/orders/ok?session_id=cs_")


def dev_state(base_url: str) -> dict:
    return requests.get(f"{base_url}/_dev/state", timeout=5).json()


def wait_for(predicate, timeout: float = 5):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
    return value


@pytest.fixture
def servers():
    """Start dev servers; every one still running is stopped at the end."""
    started: list[str] = []

    def start(**kwargs) -> str:
        started.append(start_devstripe(app_url=UNREACHABLE_APP, webhook_secret="whsec_x", api_key=API_KEY, **kwargs))
        return started[-1]

    def stop(base_url: str) -> None:
        started.remove(base_url)
        stop_devstripe(base_url)

    start.stop = stop
    yield start
    for base_url in started:
        stop_devstripe(base_url)


def test_a_restarted_server_keeps_sessions_payments_events_and_idempotency_keys(servers, tmp_path):
    db_path = tmp_path / "ds.db"
    first = servers(db_path=db_path)
    requests.post(f"{first}/_dev/config", json={"retry_delays": []}, timeout=5).raise_for_status()  # one attempt
    session = create_session(first)
    pay(session.url)
    [completed] = wait_for(lambda: [e for e in dev_state(first)["events"] if e["attempts"]])
    servers.stop(first)

    second = servers(db_path=db_path)
    assert second != first  # a new server on a new port, only the file is shared
    api = client(second)
    again = api.v1.checkout.sessions.retrieve(session.id)
    assert (again.status, again.payment_status) == ("complete", "paid")
    assert again.payment_intent.startswith("pi_")
    assert again.amount_total == 3000 and again.metadata["order_token"] == "tok-1"

    refund = api.v1.refunds.create({"payment_intent": again.payment_intent, "reason": "requested_by_customer",
                                    "metadata": {"order_token": "tok-1"}}, {"idempotency_key": "refund-tok-1"})
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 3000, again.payment_intent)
    fetched = api.v1.refunds.retrieve(refund.id)
    assert (fetched.id, fetched.amount, fetched.metadata["order_token"]) == (refund.id, 3000, "tok-1")

    # The app's retry of its original create call gets the session Stripe already made, not a second one.
    assert create_session(second).id == session.id

    # The webhook event and the attempt to deliver it are still on record.
    state = dev_state(second)
    assert [s["id"] for s in state["sessions"]] == [session.id]
    assert [r["id"] for r in state["refunds"]] == [refund.id]
    [event] = [e for e in state["events"] if e["type"] == "checkout.session.completed"]
    assert event["id"] == completed["id"] and event["attempts"] == [0]  # 0: the app was unreachable
    assert event["data"]["object"]["id"] == session.id

    # The refund itself was kept too: a third server refuses to refund the payment twice.
    servers.stop(second)
    third = servers(db_path=db_path)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(third).v1.refunds.create({"payment_intent": again.payment_intent}, {"idempotency_key": "refund-2"})
    assert refused.value.code == "charge_already_refunded"
    assert client(third).v1.refunds.retrieve(refund.id).id == refund.id


def test_servers_without_a_database_file_start_empty_and_share_nothing(servers):
    one, other = servers(), servers()
    session = create_session(one)

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client(other).v1.checkout.sessions.retrieve(session.id)
    assert missing.value.code == "resource_missing"
    assert dev_state(other)["sessions"] == []
    assert create_session(other).id != session.id  # the idempotency key is unknown there too

    servers.stop(one)
    assert dev_state(servers())["sessions"] == []  # a new server without a file is empty again

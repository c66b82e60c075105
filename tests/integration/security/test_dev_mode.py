"""Dev mode (no STRIPE_SECRET_KEY, the default) is safe by default: the app and the dev
payment server share a secret generated per installation (no constant in the source), the
server answers only that key, listens on 127.0.0.1 only, and keeps its /_dev/* controls
(which list every order's token) off unless asked; a real key with dev-only settings does
not start."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import stripe
from flask import Flask, request
from werkzeug.serving import make_server

from devtools.devstripe import start_devstripe, stop_devstripe
from eventsite import create_app
from eventsite.infra.settings import SettingsError, load

REPO = Path(__file__).resolve().parents[3]
SESSION = {
    "mode": "payment", "customer_email": "buyer@example.test", "client_reference_id": "tok-1",
    "metadata": {"order_token": "tok-1", "order_id": "1"},
    "line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 1500,
                                                  "product_data": {"name": "Concert: Standing"}}}],
    "success_url": "http://shop.test/ok?session_id={CHECKOUT_SESSION_ID}", "cancel_url": "http://shop.test/cancel",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebhookCatcher:
    """Where the dev server delivers webhooks: records each body and signature, answers 200."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []
        catcher = Flask("catcher")

        @catcher.post("/webhooks/stripe")
        def receive():
            self.received.append((request.get_data(as_text=True), request.headers.get("Stripe-Signature", "")))
            return "", 200

        self.server = make_server("127.0.0.1", 0, catcher, threaded=True)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def catcher():
    caught = WebhookCatcher()
    yield caught
    caught.server.shutdown()


@pytest.fixture
def run_devstripe(tmp_path):
    """``python -m devtools.devstripe`` as Procfile runs it, on an instance folder of its own."""
    started = []

    def run(instance: Path, *args: str, webhook_url: str = "http://127.0.0.1:9/webhooks/stripe") -> str:
        port = _free_port()
        environ = {k: v for k, v in os.environ.items() if k not in ("STRIPE_WEBHOOK_SECRET", "PUBLIC_URL")}
        process = subprocess.Popen(
            [sys.executable, "-m", "devtools.devstripe", "--port", str(port), "--instance", str(instance),
             "--db", str(tmp_path / f"devstripe-{port}.db"), "--webhook-url", webhook_url, *args],
            cwd=REPO, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(process)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:  # waiting for a process to listen (not for the app's clock)
            try:
                requests.get(f"{base_url}/pay/none", timeout=1)
                return base_url
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the dev server did not start"
                time.sleep(0.05)

    yield run
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def client(base_url: str, key: str) -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": base_url}, max_network_retries=0)


def test_the_app_and_the_dev_server_share_the_installations_secret(tmp_path, run_devstripe, catcher):
    config = load(str(tmp_path), {})  # the app's settings on this installation: generates the secret
    base_url = run_devstripe(tmp_path, webhook_url=f"{catcher.url}/webhooks/stripe")

    session = client(base_url, config["DEVSTRIPE_API_KEY"]).v1.checkout.sessions.create(SESSION)

    # The buyer's hosted page and its buttons stay; paying sends a webhook the app can verify.
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200 and f"/pay/{session.id}/pay" in page.text
    requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5)
    deadline = time.monotonic() + 10
    while not catcher.received:
        assert time.monotonic() < deadline, "no webhook arrived"
        time.sleep(0.05)
    payload, signature = catcher.received[0]
    event = stripe.Webhook.construct_event(payload, signature, config["STRIPE_WEBHOOK_SECRET"])
    assert event["type"] == "checkout.session.completed"


@pytest.mark.parametrize("authorization", [None, "Bearer sk_test_devstripe", "Bearer sk_test_anything"])
def test_the_dev_server_refuses_any_other_key(tmp_path, run_devstripe, authorization):
    load(str(tmp_path), {})
    base_url = run_devstripe(tmp_path)
    headers = {"Authorization": authorization} if authorization else {}
    refused = requests.post(f"{base_url}/v1/checkout/sessions", data={"mode": "payment"}, headers=headers, timeout=5)
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"


def test_two_installations_do_not_accept_each_others_key(tmp_path, run_devstripe):
    one, two = tmp_path / "one", tmp_path / "two"
    key_one, key_two = load(str(one), {})["DEVSTRIPE_API_KEY"], load(str(two), {})["DEVSTRIPE_API_KEY"]
    assert key_one != key_two
    server_one = run_devstripe(one)
    with pytest.raises(stripe.AuthenticationError):
        client(server_one, key_two).v1.checkout.sessions.create(SESSION)
    assert client(server_one, key_one).v1.checkout.sessions.create(SESSION).id.startswith("cs_")


def test_the_dev_controls_are_off_unless_enabled(tmp_path, run_devstripe):
    load(str(tmp_path), {})
    plain = run_devstripe(tmp_path)
    for method, path in [("GET", "/_dev/state"), ("POST", "/_dev/config"), ("POST", "/_dev/deliver")]:
        assert requests.request(method, f"{plain}{path}", json={}, timeout=5).status_code == 404, path
    enabled = run_devstripe(tmp_path, "--enable-dev-api")
    assert requests.get(f"{enabled}/_dev/state", timeout=5).status_code == 200


def test_the_dev_server_listens_on_loopback_only(tmp_path):
    chosen = subprocess.run([sys.executable, "-m", "devtools.devstripe", "--host", "0.0.0.0", "--instance",
                             str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert chosen.returncode == 2 and "unrecognized arguments: --host" in chosen.stderr


def test_started_for_tests_the_controls_follow_the_flag():
    base_url = start_devstripe("http://127.0.0.1:9", "whsec_x", api_key="sk_test_x", enable_dev_api=False)
    try:
        assert requests.get(f"{base_url}/_dev/state", timeout=5).status_code == 404
    finally:
        stop_devstripe(base_url)


def test_a_real_key_with_a_dev_only_setting_does_not_start(monkeypatch, tmp_path):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_x")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_live")
    monkeypatch.setenv("DEVSTRIPE_URL", "http://127.0.0.1:12111")
    with pytest.raises(SettingsError, match="STRIPE_SECRET_KEY is set, and so is DEVSTRIPE_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.delenv("DEVSTRIPE_URL")
    assert load(str(tmp_path), dict(os.environ))["DEVSTRIPE_API_KEY"] is None  # no dev key with a real one

"""The dev server: state in a SQLite file (so a restart keeps it), one Flask app, webhook delivery on threads."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from flask import Flask, abort, jsonify, redirect, render_template_string, request
from werkzeug.serving import make_server

from eventsite.readmodels.localized import money  # amounts in the currency's own minor unit, as Stripe sends them

API_VERSION = "2025-09-30.clover"
# Seconds before each retry of a webhook the app did not accept (Stripe spaces
# these over days; a dev server has no such patience).
RETRY_DELAYS = (0.2, 0.5, 1, 2, 4, 8, 15, 30)

# One table per kind of object, each a JSON body under its Stripe id. Lists come
# back in rowid order, which is creation order (upserts keep the rowid).
KINDS = ("sessions", "payment_intents", "refunds", "events")
SCHEMA = "".join(f"CREATE TABLE IF NOT EXISTS {kind} (id TEXT PRIMARY KEY, created INTEGER, body TEXT NOT NULL);\n"
                 for kind in KINDS) + """
CREATE TABLE IF NOT EXISTS idempotency (path TEXT, key TEXT, created INTEGER, status INTEGER, body TEXT NOT NULL,
                                        PRIMARY KEY (path, key));
"""


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def _nested(form) -> dict[str, Any]:
    """Decode Stripe's form encoding (``a[b][0][c]=v``) into dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in form.items(multi=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for part, after in zip(parts, [*parts[1:], None], strict=True):
            if after is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def _error(status: int, message: str, code: str | None = None, kind: str = "invalid_request_error"):
    response = jsonify({"error": {"type": kind, "message": message, "code": code}})
    response.status_code = status
    return response


class Store:
    """Everything the server knows: objects in SQLite, runtime knobs in memory, all behind one lock."""

    def __init__(self, webhook_url: str, webhook_secret: str, db_path: str | os.PathLike):
        self.lock = threading.Lock()
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        # One connection shared by the request and delivery threads, only ever used under self.lock.
        self.db = sqlite3.connect(db_path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")  # cheap commits; survives a crash, only power loss may cost one
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.deliver = True  # False: hold webhooks until /_dev/deliver (to make them arrive late)
        self.held: list[dict] = []
        self.create_delay = 0.0  # seconds to stall after creating a session (to kill a worker mid-request)
        self.retry_delays = RETRY_DELAYS
        self.stopping = threading.Event()

    # --- storage: call these only inside `with store.tx():` -------------------

    @contextmanager
    def tx(self) -> Iterator[Store]:
        """One unit of work: holds the lock; its writes commit together, or roll back on an exception."""
        with self.lock, self.db:
            yield self

    def get(self, kind: str, object_id: str) -> dict | None:
        assert kind in KINDS
        row = self.db.execute(f"SELECT body FROM {kind} WHERE id = ?", (object_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, kind: str) -> list[dict]:
        assert kind in KINDS
        return [json.loads(body) for (body,) in self.db.execute(f"SELECT body FROM {kind} ORDER BY rowid")]

    def put(self, kind: str, obj: dict) -> dict:
        assert kind in KINDS
        self.db.execute(f"INSERT INTO {kind} (id, created, body) VALUES (?, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                        (obj["id"], obj.get("created") or int(time.time()), json.dumps(obj)))
        return obj

    def replay(self, path: str, key: str) -> tuple[dict, int] | None:
        row = self.db.execute("SELECT body, status FROM idempotency WHERE path = ? AND key = ?", (path, key)).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def remember(self, path: str, key: str, body: dict, status: int, *, replace: bool = False) -> None:
        """Keep the answer for this key; the first one wins unless ``replace``."""
        self.db.execute(f"INSERT OR {'REPLACE' if replace else 'IGNORE'} INTO idempotency "
                        "(path, key, created, status, body) VALUES (?, ?, ?, ?, ?)",
                        (path, key, int(time.time()), status, json.dumps(body)))

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # --- webhooks -----------------------------------------------------------

    def emit(self, kind: str, obj: dict) -> dict:
        event = {"id": _id("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
                 "type": kind, "livemode": False, "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "data": {"object": dict(obj)},
                 "attempts": []}
        self.put("events", event)
        if self.deliver:
            self.send(event)
        else:
            self.held.append(event)
        return event

    def send(self, event: dict) -> None:
        threading.Thread(target=self._deliver, args=(event,), daemon=True).start()

    def signature(self, payload: str, timestamp: int | None = None) -> str:
        timestamp = timestamp or int(time.time())
        mac = hmac.new(self.webhook_secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
        return f"t={timestamp},v1={mac.hexdigest()}"

    def _deliver(self, event: dict) -> None:
        payload = json.dumps({k: v for k, v in event.items() if k != "attempts"})
        for delay in (0, *self.retry_delays):
            if self.stopping.wait(delay):
                return
            try:
                response = requests.post(self.webhook_url, data=payload.encode(), timeout=10, headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": self.signature(payload)})
                status = response.status_code
            except requests.RequestException:
                status = 0  # the app was unreachable
            with self.lock:
                if self.stopping.is_set():  # the database may be closed by now
                    return
                with self.db:
                    stored = self.get("events", event["id"])
                    if stored is None:  # its transaction rolled back
                        return
                    stored["attempts"].append(status)
                    self.put("events", stored)
            if 200 <= status < 300:
                return


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Dev checkout</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
button{display:block;width:100%;margin:.5rem 0;padding:.8rem;font-size:1rem}
.note{background:#fff3cd;padding:.5rem}.err{background:#fde0e0;padding:.5rem}</style></head><body>
<p class="note">Development payment page: no real money moves.</p>
<h1>Pay {{ money(s.amount_total, s.currency) }}</h1>
<ul>{% for item in s.display_items %}<li>{{ item.quantity }} × {{ item.name }}</li>{% endfor %}</ul>
{% if declined %}<p class="err" role="alert">Your card was declined. Try another way to pay.</p>{% endif %}
{% if s.status == 'open' %}
  <form method="post" action="/pay/{{ s.id }}/pay"><button>Pay</button></form>
  <form method="post" action="/pay/{{ s.id }}/delayed"><button>Pay by bank debit (delayed)</button></form>
  <form method="post" action="/pay/{{ s.id }}/decline"><button>Pay with a card that is declined</button></form>
  <p><a href="{{ s.cancel_url }}">Cancel and return to the shop</a></p>
{% elif s.status == 'complete' and s.payment_status == 'unpaid' and not s.async_outcome %}
  <p>Bank debit submitted. Simulate the bank's answer:</p>
  <form method="post" action="/pay/{{ s.id }}/async/succeeded"><button>Bank confirms the payment</button></form>
  <form method="post" action="/pay/{{ s.id }}/async/failed"><button>Bank rejects the payment</button></form>
{% elif s.status == 'complete' %}
  <p>This payment is complete ({{ s.async_outcome or s.payment_status }}).</p>
{% else %}
  <p>This checkout session has expired. <a href="{{ s.cancel_url }}">Return to the shop</a></p>
{% endif %}
</body></html>"""


def create_app(webhook_url: str, webhook_secret: str, db_path: str | os.PathLike, *, api_key: str,
               enable_dev_api: bool = False) -> Flask:
    """The dev server's app; it keeps its state in the SQLite file ``db_path`` (created if missing).

    /v1/* answers only ``Authorization: Bearer <api_key>`` (the installation's key, as Stripe
    answers only its account's). The /_dev/* controls (state with every session, hence every
    order token; held webhooks; refunds and disputes) exist only with ``enable_dev_api``."""
    if not api_key:
        raise ValueError("the dev payment server needs an API key")
    app = Flask(__name__)
    store = Store(webhook_url, webhook_secret, db_path)
    app.extensions["devstripe"] = store
    expected = f"Bearer {api_key}".encode()

    @app.before_request
    def authenticate():
        if request.path.startswith("/v1/") and not hmac.compare_digest(
                request.headers.get("Authorization", "").encode(), expected):
            return _error(401, "No valid API key provided.", kind="authentication_error")
        if request.path.startswith("/_dev/") and not enable_dev_api:
            abort(404)
        return None

    def idempotent(handler):
        """Replay the first answer for a repeated Idempotency-Key (as Stripe does for 24 h)."""
        def wrapper(*args, **kwargs):
            key = request.headers.get("Idempotency-Key")
            if key:
                with store.tx():
                    saved = store.replay(request.path, key)
                if saved:
                    response = jsonify(saved[0])
                    response.status_code = saved[1]
                    response.headers["Idempotent-Replayed"] = "true"
                    return response
            body, status = handler(*args, **kwargs)
            if key:
                with store.tx():
                    store.remember(request.path, key, body, status)
            return jsonify(body), status
        wrapper.__name__ = handler.__name__
        return wrapper

    def session_or_404(session_id: str) -> dict:
        session = store.get("sessions", session_id)
        if session is None:
            abort(_error(404, f"No such checkout.session: '{session_id}'", "resource_missing"))
        return session

    def public(session: dict) -> dict:
        return {k: v for k, v in session.items() if k not in ("display_items", "async_outcome")}

    @app.post("/v1/checkout/sessions")
    @idempotent
    def create_session():
        params = _nested(request.form)
        items = params.get("line_items") or []
        if not items or not params.get("success_url") or not params.get("cancel_url"):
            return {"error": {"type": "invalid_request_error",
                              "message": "line_items, success_url and cancel_url are required."}}, 400
        display = [{"name": i["price_data"]["product_data"]["name"], "quantity": int(i["quantity"]),
                    "amount": int(i["price_data"]["unit_amount"]) * int(i["quantity"])} for i in items]
        session_id = _id("cs")
        session = {
            "id": session_id, "object": "checkout.session", "mode": params.get("mode", "payment"),
            "status": "open", "payment_status": "unpaid", "payment_intent": None,
            "url": f"{request.host_url}pay/{session_id}", "livemode": False,
            "client_reference_id": params.get("client_reference_id"), "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata") or {}, "success_url": params["success_url"],
            "cancel_url": params["cancel_url"], "expires_at": int(params.get("expires_at") or time.time() + 86400),
            "created": int(time.time()), "currency": items[0]["price_data"]["currency"],
            "amount_total": sum(i["amount"] for i in display), "display_items": display, "async_outcome": None,
        }
        body = public(session)
        key = request.headers.get("Idempotency-Key")
        with store.tx():
            store.put("sessions", session)
            if key:  # remember before stalling, so a retry while we stall replays this session
                store.remember(request.path, key, body, 200, replace=True)
        if store.create_delay:
            store.stopping.wait(store.create_delay)
        return body, 200

    @app.get("/v1/checkout/sessions/<session_id>")
    def retrieve_session(session_id: str):
        with store.tx():
            return jsonify(public(session_or_404(session_id)))

    @app.post("/v1/checkout/sessions/<session_id>/expire")
    @idempotent
    def expire_session(session_id: str):
        with store.tx():
            session = session_or_404(session_id)
            if session["status"] != "open":
                return {"error": {"type": "invalid_request_error", "code": "checkout_session_not_open",
                                  "message": 'Only Checkout Sessions with a status in ["open"] can be expired.'}}, 400
            session["status"] = "expired"
            store.put("sessions", session)
            store.emit("checkout.session.expired", public(session))
            return public(session), 200

    @app.post("/v1/refunds")
    @idempotent
    def create_refund():
        params = _nested(request.form)
        with store.tx():
            intent = store.get("payment_intents", params.get("payment_intent", ""))
            if intent is None or intent["status"] != "succeeded":
                return {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                  "message": "No such succeeded payment_intent."}}, 400
            if intent.get("refunded"):
                return {"error": {"type": "invalid_request_error", "code": "charge_already_refunded",
                                  "message": "This charge has already been refunded."}}, 400
            intent["refunded"] = True
            store.put("payment_intents", intent)
            refund = {"id": _id("re"), "object": "refund", "amount": intent["amount"], "currency": intent["currency"],
                      "payment_intent": intent["id"], "status": "succeeded", "reason": params.get("reason"),
                      "metadata": params.get("metadata") or {}, "created": int(time.time())}
            return store.put("refunds", refund), 200

    @app.get("/v1/refunds/<refund_id>")
    def retrieve_refund(refund_id: str):
        with store.tx():
            refund = store.get("refunds", refund_id)
        if refund is None:
            return _error(404, f"No such refund: '{refund_id}'", "resource_missing")
        return jsonify(refund)

    # --- the hosted checkout page --------------------------------------------

    @app.get("/pay/<session_id>")
    def hosted_page(session_id: str):
        with store.tx():
            session = store.get("sessions", session_id) or abort(404)
        return render_template_string(PAGE, s=session, declined=request.args.get("declined"), money=money)

    @app.post("/pay/<session_id>/<action>")
    def hosted_action(session_id: str, action: str):
        with store.tx():
            session = store.get("sessions", session_id) or abort(404)
            if session["status"] != "open":
                return redirect(f"/pay/{session_id}", 303)
            if action == "decline":
                return redirect(f"/pay/{session_id}?declined=1", 303)
            if action not in ("pay", "delayed"):
                abort(404)
            intent = {"id": _id("pi"), "object": "payment_intent", "amount": session["amount_total"],
                      "currency": session["currency"], "status": "succeeded" if action == "pay" else "processing"}
            store.put("payment_intents", intent)
            session.update(status="complete", payment_intent=intent["id"],
                           payment_status="paid" if action == "pay" else "unpaid")
            store.put("sessions", session)
            store.emit("checkout.session.completed", public(session))
        return redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id), 303)

    @app.post("/pay/<session_id>/async/<outcome>")
    def async_outcome(session_id: str, outcome: str):
        """The bank's answer to a delayed payment (a button on the page, or a call from tests)."""
        if outcome not in ("succeeded", "failed"):
            abort(404)
        with store.tx():
            session = store.get("sessions", session_id) or abort(404)
            intent = store.get("payment_intents", session["payment_intent"] or "")
            if intent is None or intent["status"] != "processing":
                abort(409)
            intent["status"] = "succeeded" if outcome == "succeeded" else "requires_payment_method"
            store.put("payment_intents", intent)
            session.update(async_outcome=outcome, payment_status="paid" if outcome == "succeeded" else "unpaid")
            store.put("sessions", session)
            store.emit(f"checkout.session.async_payment_{outcome}", public(session))
        return redirect(f"/pay/{session_id}", 303)

    # --- controls for development and tests ------------------------------------

    @app.get("/_dev/state")
    def state():
        with store.tx():
            return jsonify({"sessions": [public(s) for s in store.all("sessions")],
                            "refunds": store.all("refunds"), "events": store.all("events"),
                            "held": [e["id"] for e in store.held]})

    @app.post("/_dev/config")
    def configure():
        settings = request.get_json(force=True)
        with store.lock:
            if "deliver" in settings:
                store.deliver = bool(settings["deliver"])
            if "create_delay" in settings:
                store.create_delay = float(settings["create_delay"])
            if "retry_delays" in settings:
                store.retry_delays = tuple(float(d) for d in settings["retry_delays"])
        return jsonify({"ok": True})

    # --- what happens in the provider's own dashboard: a refund, a dispute ------

    def _charge(intent: dict, **extra) -> dict:
        return {"id": "ch_" + intent["id"].removeprefix("pi_"), "object": "charge", "payment_intent": intent["id"],
                "amount": intent["amount"], "currency": intent["currency"], **extra}

    @app.post("/_dev/payment_intents/<intent_id>/refund")
    def refund_at_provider(intent_id: str):
        """An operator refunds in the provider's dashboard: Stripe tells the app with charge.refunded."""
        with store.tx():
            intent = store.get("payment_intents", intent_id) or abort(404)
            amount = int(request.args.get("amount", intent["amount"]))
            refund = {"id": _id("re"), "object": "refund", "amount": amount, "currency": intent["currency"],
                      "payment_intent": intent_id, "status": "succeeded", "reason": "requested_by_customer",
                      "metadata": {}, "created": int(time.time())}
            store.put("refunds", refund)
            intent["refunded"] = amount >= intent["amount"]
            store.put("payment_intents", intent)
            store.emit("charge.refunded", _charge(intent, amount_refunded=amount, refunded=intent["refunded"],
                                                  refunds={"object": "list", "data": [refund]}))
        return jsonify(refund)

    @app.post("/_dev/payment_intents/<intent_id>/dispute")
    def dispute(intent_id: str):
        """The buyer's bank disputes the payment: charge.dispute.created."""
        with store.tx():
            intent = store.get("payment_intents", intent_id) or abort(404)
            charge = _charge(intent)
            disputed = {"id": _id("dp"), "object": "dispute", "charge": charge["id"], "payment_intent": intent_id,
                        "amount": intent["amount"], "currency": intent["currency"], "reason": "fraudulent",
                        "status": "needs_response"}
            store.emit("charge.dispute.created", disputed)
        return jsonify(disputed)

    @app.post("/_dev/deliver")
    def deliver_held():
        with store.lock:
            held, store.held = store.held, []
        for event in held:
            store.send(event)
        return jsonify({"delivered": [e["id"] for e in held]})

    @app.post("/_dev/events/<event_id>/resend")
    def resend(event_id: str):
        with store.tx():
            event = store.get("events", event_id) or abort(404)
        store.send(event)
        return jsonify({"resent": event_id})

    return app


# base URL -> (server, its thread, its store, the temporary database file to delete on stop or None)
_servers: dict[str, tuple[Any, threading.Thread, Store, Path | None]] = {}


def start_devstripe(app_url: str, webhook_secret: str, *, api_key: str, host: str = "127.0.0.1", port: int = 0,
                    db_path: str | os.PathLike | None = None, enable_dev_api: bool = True) -> str:
    """Serve a dev server on a thread (a free port by default); returns its base URL.

    For tests, which drive it through /_dev/* (on by default here, off in ``python -m devtools.devstripe``).
    Webhooks go to ``app_url`` + /webhooks/stripe, signed with ``webhook_secret``. State lives in
    ``db_path``, so a server started again on the same file carries on; without it, in a fresh
    temporary file that stop_devstripe deletes (an empty server, as each test wants)."""
    temporary = None
    if db_path is None:
        fd, name = tempfile.mkstemp(prefix="devstripe-", suffix=".db")
        os.close(fd)
        db_path = temporary = Path(name)
    app = create_app(app_url.rstrip("/") + "/webhooks/stripe", webhook_secret, db_path, api_key=api_key,
                     enable_dev_api=enable_dev_api)
    server = make_server(host, port, app, threaded=True)
    # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True,
                              name="devstripe")
    thread.start()
    base_url = f"http://{host}:{server.server_port}"
    _servers[base_url] = (server, thread, app.extensions["devstripe"], temporary)
    return base_url


def stop_devstripe(base_url: str) -> None:
    server, thread, store, temporary = _servers.pop(base_url)
    store.stopping.set()  # ends retry waits and stalled requests
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()  # free the port
    store.close()
    if temporary:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)

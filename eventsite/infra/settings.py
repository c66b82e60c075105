"""Every setting, read from the environment in this one module, with types and
defaults that work on a fresh machine. A bad value or a bad combination stops
the app at start with a message naming the variable, not at the first request."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

# Without a real Stripe key, the app and the dev payment server share one random secret,
# generated once per installation into instance/ (never a constant in the source).
DEVSTRIPE_SECRET_FILE = "devstripe_secret"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


class SettingsError(RuntimeError):
    """The environment asks for something the app cannot run with."""


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError("expected true or false")
    return value in _TRUE


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    return parse


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _job_prefix(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", text):
        raise ValueError("use 1 to 40 letters, digits, '_' or '-' (RQ's job id characters)")
    return text


# name: (parser, default); the config key is the variable's name unless listed in _KEYS.
_VARIABLES: dict[str, tuple[Callable[[str], Any], Any]] = {
    "DATABASE_URL": (str, None),  # default: SQLite under instance/
    "REDIS_URL": (str, "redis://127.0.0.1:6379/0"),
    "HOLD_MINUTES": (_positive(int), 15),
    "SWEEP_INTERVAL_SECONDS": (_positive(int), 300),
    "SWEEP_BATCH_SIZE": (_positive(int), 1000),
    "AVAILABILITY_POLL_SECONDS": (_positive(int), 5),
    # How long display paths may reuse an event's figures (never past a hold's expiry).
    "AVAILABILITY_CACHE_SECONDS": (_positive(float), 1.0),
    # How long a locked transaction waits for a row lock before answering "busy, try again".
    "LOCK_TIMEOUT_SECONDS": (_positive(float), 3.0),
    "STRIPE_SECRET_KEY": (str, None),
    "STRIPE_WEBHOOK_SECRET": (str, None),
    "DEVSTRIPE_URL": (str, "http://127.0.0.1:12111"),
    "PUBLIC_URL": (str, "http://127.0.0.1:5000"),
    "RATELIMIT_ENABLED": (_bool, True),
    # Reservations per client, one budget shared by the shop's form and the API.
    "RESERVE_RATE_LIMIT": (str, "10/minute"),
    "SESSION_COOKIE_SECURE": (_bool, None),  # default: true when PUBLIC_URL is https
    # Dashboard sign-ins end this many hours after logging in (then log in again).
    "SESSION_LIFETIME_HOURS": (_positive(float), 12.0),
    # Reverse proxies in front of the app (X-Forwarded-For/-Proto/-Host hops to trust); 0: none.
    "TRUSTED_PROXIES": (_non_negative_int, 0),
    "SECRET_KEY": (str, None),  # default: generated once into instance/secret_key
    # Names this installation's jobs in a Redis shared with others (default: from SECRET_KEY).
    "JOB_ID_PREFIX": (_job_prefix, None),
    # The RQ job monitor at /ops/rq: HTTP basic auth with these; without a password it is not mounted.
    "OPS_USERNAME": (str, "ops"),
    "OPS_PASSWORD": (str, None),
    # Outgoing mail (SMTP). The default is the dev mail server `make run` starts (inbox on :1080).
    "MAIL_SERVER": (str, "127.0.0.1"),
    "MAIL_PORT": (_positive(int), 1025),
    "MAIL_USERNAME": (str, None),
    "MAIL_PASSWORD": (str, None),
    "MAIL_USE_TLS": (_bool, False),  # STARTTLS on MAIL_PORT
    "MAIL_USE_SSL": (_bool, False),  # TLS from the first byte (usually port 465)
    "MAIL_TIMEOUT": (_positive(int), 10),  # seconds; a hung server fails the attempt, which is retried
    "MAIL_DEFAULT_SENDER": (str, "eventsite <tickets@eventsite.localhost>"),
    # Places taken in waiting rooms per client address (one per browser and email is the room's own rule;
    # this stops one machine from filling a room). People behind one address (an office) share it.
    "ROOM_JOIN_RATE_LIMIT": (str, "20/minute"),
    # "Find my tickets": per address asked about, and per client.
    "FIND_TICKETS_RATE_LIMIT": (str, "3/hour"),
    "FIND_TICKETS_CLIENT_RATE_LIMIT": (str, "10/hour"),
    # Set (to a writable folder) when several processes serve /metrics: prometheus_client sums them there.
    "PROMETHEUS_MULTIPROC_DIR": (str, None),
    # The largest request body accepted (413 above it): forms and JSON here are tiny, Stripe's webhooks a few KB.
    "MAX_REQUEST_BYTES": (_positive(int), 64 * 1024),
}
_KEYS = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI", "HOLD_MINUTES": "HOLD_MINUTES_DEFAULT",
         "MAX_REQUEST_BYTES": "MAX_CONTENT_LENGTH"}


def _read(environ: Mapping[str, str]) -> dict[str, Any]:
    values, problems = {}, []
    for name, (parse, default) in _VARIABLES.items():
        text = environ.get(name)
        if text is None or (text == "" and default is None):
            values[name] = default
            continue
        try:
            values[name] = parse(text)
        except ValueError as error:
            problems.append(f"{name}={text!r}: {error}")
    if values["STRIPE_SECRET_KEY"] and not values["STRIPE_WEBHOOK_SECRET"]:
        problems.append("STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: every webhook would be "
                        "refused. Set the signing secret of the endpoint (Stripe dashboard, Webhooks).")
    if values["STRIPE_SECRET_KEY"] and environ.get("DEVSTRIPE_URL"):
        problems.append("STRIPE_SECRET_KEY is set, and so is DEVSTRIPE_URL, which only the dev payment server "
                        "uses: unset DEVSTRIPE_URL (with a real key, payments go to Stripe).")
    if values["MAIL_USE_TLS"] and values["MAIL_USE_SSL"]:
        problems.append("MAIL_USE_TLS and MAIL_USE_SSL are both set: choose STARTTLS (TLS) or implicit TLS (SSL).")
    if environ.get("API_RESERVE_RATE_LIMIT") is not None:  # renamed when it came to cover the shop's form too
        problems.append("API_RESERVE_RATE_LIMIT is now RESERVE_RATE_LIMIT, one budget per client shared by the "
                        "shop's reserve form and the API: set that instead (and check the value still suits).")
    if problems:
        raise SettingsError("eventsite cannot start with these settings:\n  " + "\n  ".join(problems))
    return values


def _secret_key(instance_path: Path) -> str:
    """One generated once per installation and kept in instance/ (readable by its owner only)."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def devstripe_secrets(instance_path: str | Path) -> tuple[str, str]:
    """(API key, webhook signing secret) shared by the app and the dev payment server of this
    installation: one random value generated once into instance/devstripe_secret (owner-only)."""
    instance = Path(instance_path)
    secret_file = instance / DEVSTRIPE_SECRET_FILE
    if not secret_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    value = secret_file.read_text().strip()
    return f"sk_test_{value}", f"whsec_{value}"


def _engine_options(url: str) -> dict:
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # Web requests read a few hundred rows at most. Parallel workers only add
        # start-up cost (several ms), and stale statistics after an on-sale made
        # the planner choose them for the held sum.
        options["connect_args"] = {"options": "-c max_parallel_workers_per_gather=0"}
    return options


def load(instance_path: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Flask config of this installation (raises SettingsError on bad settings)."""
    instance = Path(instance_path)
    values = _read(os.environ if environ is None else environ)
    values["DATABASE_URL"] = values["DATABASE_URL"] or f"sqlite:///{instance / 'eventsite.db'}"
    values["SECRET_KEY"] = values["SECRET_KEY"] or _secret_key(instance)
    installation = hashlib.sha256(values["SECRET_KEY"].encode()).hexdigest()[:10]
    values["JOB_ID_PREFIX"] = values["JOB_ID_PREFIX"] or f"es-{installation}"
    values["DEVSTRIPE_API_KEY"] = None
    if not values["STRIPE_SECRET_KEY"]:
        api_key, webhook_secret = devstripe_secrets(instance)
        values["DEVSTRIPE_API_KEY"] = api_key
        values["STRIPE_WEBHOOK_SECRET"] = values["STRIPE_WEBHOOK_SECRET"] or webhook_secret
    if values["SESSION_COOKIE_SECURE"] is None:  # a site served over https sends its cookie over https only
        values["SESSION_COOKIE_SECURE"] = values["PUBLIC_URL"].lower().startswith("https://")
    config = {_KEYS.get(name, name): value for name, value in values.items()}
    config.update(
        MAIL_BACKEND="smtp",  # Flask-Mailman would keep mail in memory under TESTING; tests read real SMTP
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=values["SESSION_LIFETIME_HOURS"]),
        REMEMBER_COOKIE_SECURE=values["SESSION_COOKIE_SECURE"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(values["DATABASE_URL"]),
    )
    return config

"""Every setting, read from the environment in this one module, with types and
defaults that work on a fresh machine. A bad value or a bad combination stops
the app at start with a message naming the variable, not at the first request."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# Used only when no real Stripe key is configured; the dev payment server signs with it too.
DEV_WEBHOOK_SECRET = "whsec_devstripe_local_only"
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
    "API_RESERVE_RATE_LIMIT": (str, "10/minute"),
    "SESSION_COOKIE_SECURE": (_bool, False),
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
    # "Find my tickets": per address asked about, and per client.
    "FIND_TICKETS_RATE_LIMIT": (str, "3/hour"),
    "FIND_TICKETS_CLIENT_RATE_LIMIT": (str, "10/hour"),
    # Set (to a writable folder) when several processes serve /metrics: prometheus_client sums them there.
    "PROMETHEUS_MULTIPROC_DIR": (str, None),
}
_KEYS = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI", "HOLD_MINUTES": "HOLD_MINUTES_DEFAULT"}


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
    if values["MAIL_USE_TLS"] and values["MAIL_USE_SSL"]:
        problems.append("MAIL_USE_TLS and MAIL_USE_SSL are both set: choose STARTTLS (TLS) or implicit TLS (SSL).")
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
    if not values["STRIPE_SECRET_KEY"]:
        values["STRIPE_WEBHOOK_SECRET"] = values["STRIPE_WEBHOOK_SECRET"] or DEV_WEBHOOK_SECRET
    config = {_KEYS.get(name, name): value for name, value in values.items()}
    config.update(
        MAIL_BACKEND="smtp",  # Flask-Mailman would keep mail in memory under TESTING; tests read real SMTP
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(values["DATABASE_URL"]),
    )
    return config

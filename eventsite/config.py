"""Settings from the environment, with defaults that work on a fresh machine."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _engine_options(url: str) -> dict:
    options = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # Web requests read a few hundred rows at most. Parallel workers only add
        # start-up cost (several ms), and stale statistics after an on-sale made
        # the planner choose them for the held sum.
        options["connect_args"] = {"options": "-c max_parallel_workers_per_gather=0"}
    return options


def load(instance_path: str) -> dict:
    instance = Path(instance_path)
    default_db = f"sqlite:///{instance / 'eventsite.db'}"
    database_url = os.environ.get("DATABASE_URL", default_db)
    return {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "HOLD_MINUTES_DEFAULT": int(os.environ.get("HOLD_MINUTES", "15")),
        "SWEEP_INTERVAL_SECONDS": int(os.environ.get("SWEEP_INTERVAL_SECONDS", "300")),
        "SWEEP_BATCH_SIZE": int(os.environ.get("SWEEP_BATCH_SIZE", "1000")),
        "AVAILABILITY_POLL_SECONDS": int(os.environ.get("AVAILABILITY_POLL_SECONDS", "5")),
        # How long display paths may reuse an event's figures (never past a hold's expiry).
        "AVAILABILITY_CACHE_SECONDS": float(os.environ.get("AVAILABILITY_CACHE_SECONDS", "1")),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET"),
        "DEVSTRIPE_URL": os.environ.get("DEVSTRIPE_URL", "http://127.0.0.1:12111"),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
    }

"""Settings: defaults on a fresh machine, types, and bad combinations refused at start."""
from datetime import timedelta

import pytest

from eventsite.infra.settings import SettingsError, load


def test_a_fresh_machine_gets_sqlite_a_generated_secret_and_the_dev_payment_server(tmp_path):
    config = load(str(tmp_path), {})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'eventsite.db'}"
    assert config["SECRET_KEY"] == (tmp_path / "secret_key").read_text() and len(config["SECRET_KEY"]) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert config["STRIPE_SECRET_KEY"] is None
    shared = (tmp_path / "devstripe_secret").read_text()  # the dev payment server reads the same file
    assert config["STRIPE_WEBHOOK_SECRET"] == f"whsec_{shared}" and config["DEVSTRIPE_API_KEY"] == f"sk_test_{shared}"
    assert config["HOLD_MINUTES_DEFAULT"] == 15 and config["LOCK_TIMEOUT_SECONDS"] == 3.0
    assert load(str(tmp_path), {})["SECRET_KEY"] == config["SECRET_KEY"]  # generated once per installation


def test_values_are_typed(tmp_path):
    config = load(str(tmp_path), {"HOLD_MINUTES": "20", "RATELIMIT_ENABLED": "false", "LOCK_TIMEOUT_SECONDS": "0.5",
                                  "RESERVE_RATE_LIMIT": "3/minute", "SECRET_KEY": "s"})
    assert config["HOLD_MINUTES_DEFAULT"] == 20 and config["RATELIMIT_ENABLED"] is False
    assert config["LOCK_TIMEOUT_SECONDS"] == 0.5 and config["RESERVE_RATE_LIMIT"] == "3/minute"
    assert config["SECRET_KEY"] == "s" and not (tmp_path / "secret_key").exists()


def test_bad_values_are_refused_naming_each_variable(tmp_path):
    with pytest.raises(SettingsError) as refused:
        load(str(tmp_path), {"HOLD_MINUTES": "soon", "SWEEP_INTERVAL_SECONDS": "0", "RATELIMIT_ENABLED": "maybe"})
    message = str(refused.value)
    assert "HOLD_MINUTES='soon'" in message and "SWEEP_INTERVAL_SECONDS='0': must be greater than 0" in message
    assert "RATELIMIT_ENABLED='maybe': expected true or false" in message


def test_a_real_stripe_key_without_its_webhook_secret_does_not_start(tmp_path):
    with pytest.raises(SettingsError, match="STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not"):
        load(str(tmp_path), {"STRIPE_SECRET_KEY": "sk_live_x", "SECRET_KEY": "s"})
    real = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_y", "SECRET_KEY": "s"}
    config = load(str(tmp_path), real)
    assert config["STRIPE_WEBHOOK_SECRET"] == "whsec_y"


def test_job_ids_are_named_per_installation(tmp_path):
    one = load(str(tmp_path), {"SECRET_KEY": "one"})["JOB_ID_PREFIX"]
    assert one.startswith("es-") and one != load(str(tmp_path), {"SECRET_KEY": "two"})["JOB_ID_PREFIX"]
    assert load(str(tmp_path), {"SECRET_KEY": "one", "JOB_ID_PREFIX": "shop_a"})["JOB_ID_PREFIX"] == "shop_a"
    with pytest.raises(SettingsError, match="JOB_ID_PREFIX='a:b'"):
        load(str(tmp_path), {"SECRET_KEY": "one", "JOB_ID_PREFIX": "a:b"})


def test_each_installation_gets_its_own_dev_payment_secret(tmp_path):
    one, two = load(str(tmp_path / "one"), {}), load(str(tmp_path / "two"), {})
    assert len((tmp_path / "one" / "devstripe_secret").read_text()) == 64
    assert (tmp_path / "one" / "devstripe_secret").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert one["DEVSTRIPE_API_KEY"] != two["DEVSTRIPE_API_KEY"]
    assert one["STRIPE_WEBHOOK_SECRET"] != two["STRIPE_WEBHOOK_SECRET"]
    again = load(str(tmp_path / "one"), {})  # generated once: a restart keeps it
    assert (again["DEVSTRIPE_API_KEY"], again["STRIPE_WEBHOOK_SECRET"]) == (
        one["DEVSTRIPE_API_KEY"], one["STRIPE_WEBHOOK_SECRET"])


def test_with_a_real_stripe_key_there_is_no_dev_secret_and_dev_settings_are_refused(tmp_path):
    real = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_y", "SECRET_KEY": "s"}
    assert load(str(tmp_path), real)["DEVSTRIPE_API_KEY"] is None
    assert not (tmp_path / "devstripe_secret").exists()
    with pytest.raises(SettingsError, match="STRIPE_SECRET_KEY is set, and so is DEVSTRIPE_URL"):
        load(str(tmp_path), {**real, "DEVSTRIPE_URL": "http://127.0.0.1:12111"})


@pytest.mark.parametrize("public_url, explicit, secure", [
    ("https://tickets.example", None, True),
    ("http://127.0.0.1:5000", None, False),
    ("https://tickets.example", "false", False),  # the explicit variable still wins
    ("http://127.0.0.1:5000", "true", True),
])
def test_the_session_cookie_is_secure_when_the_site_is_https(tmp_path, public_url, explicit, secure):
    environ = {"SECRET_KEY": "s", "PUBLIC_URL": public_url}
    if explicit is not None:
        environ["SESSION_COOKIE_SECURE"] = explicit
    config = load(str(tmp_path), environ)
    assert config["SESSION_COOKIE_SECURE"] is secure and config["REMEMBER_COOKIE_SECURE"] is secure


def test_sessions_last_twelve_hours_unless_configured(tmp_path):
    assert load(str(tmp_path), {"SECRET_KEY": "s"})["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    configured = load(str(tmp_path), {"SECRET_KEY": "s", "SESSION_LIFETIME_HOURS": "1.5"})
    assert configured["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=90)
    with pytest.raises(SettingsError, match="SESSION_LIFETIME_HOURS='0': must be greater than 0"):
        load(str(tmp_path), {"SECRET_KEY": "s", "SESSION_LIFETIME_HOURS": "0"})


def test_trusted_proxies_is_a_count_of_hops(tmp_path):
    assert load(str(tmp_path), {"SECRET_KEY": "s"})["TRUSTED_PROXIES"] == 0
    assert load(str(tmp_path), {"SECRET_KEY": "s", "TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES='-1': must be 0 or more"):
        load(str(tmp_path), {"SECRET_KEY": "s", "TRUSTED_PROXIES": "-1"})

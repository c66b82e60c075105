"""Settings: defaults on a fresh machine, types, and bad combinations refused at start."""
import pytest

from eventsite.infra.settings import DEV_WEBHOOK_SECRET, SettingsError, load


def test_a_fresh_machine_gets_sqlite_a_generated_secret_and_the_dev_payment_server(tmp_path):
    config = load(str(tmp_path), {})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'eventsite.db'}"
    assert config["SECRET_KEY"] == (tmp_path / "secret_key").read_text() and len(config["SECRET_KEY"]) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert config["STRIPE_SECRET_KEY"] is None and config["STRIPE_WEBHOOK_SECRET"] == DEV_WEBHOOK_SECRET
    assert config["HOLD_MINUTES_DEFAULT"] == 15 and config["LOCK_TIMEOUT_SECONDS"] == 3.0
    assert load(str(tmp_path), {})["SECRET_KEY"] == config["SECRET_KEY"]  # generated once per installation


def test_values_are_typed(tmp_path):
    config = load(str(tmp_path), {"HOLD_MINUTES": "20", "RATELIMIT_ENABLED": "false", "LOCK_TIMEOUT_SECONDS": "0.5",
                                  "API_RESERVE_RATE_LIMIT": "3/minute", "SECRET_KEY": "s"})
    assert config["HOLD_MINUTES_DEFAULT"] == 20 and config["RATELIMIT_ENABLED"] is False
    assert config["LOCK_TIMEOUT_SECONDS"] == 0.5 and config["API_RESERVE_RATE_LIMIT"] == "3/minute"
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

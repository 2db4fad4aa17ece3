"""Settings come from the environment and .env, validated; secrets never show."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from chatcast.cli import app
from chatcast.logs import SecretRedactor, configure_logging
from chatcast.settings import Settings, redact_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    import os

    for name in list(os.environ):
        if name.startswith("CHATCAST_"):
            monkeypatch.delenv(name)


def test_defaults_need_no_configuration() -> None:
    settings = Settings()
    assert settings.db_url == "sqlite://data/chatcast.sqlite3"
    assert settings.openai_api_key is None and settings.timezone == "UTC"
    assert settings.telegram_rate_per_second == 30


def test_environment_and_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CHATCAST_TIMEZONE=Europe/Berlin\nOPENAI_API_KEY=sk-from-dotenv-123\n")
    monkeypatch.setenv("CHATCAST_DATA_DIR", str(tmp_path / "store"))
    settings = Settings()
    assert settings.timezone == "Europe/Berlin"
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-from-dotenv-123"
    assert settings.db_url == f"sqlite://{tmp_path / 'store' / 'chatcast.sqlite3'}"
    monkeypatch.setenv("CHATCAST_TIMEZONE", "Asia/Tokyo")
    assert Settings().timezone == "Asia/Tokyo"  # the environment wins over .env


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown timezone 'Mars/Olympus'"):
        Settings()
    monkeypatch.setenv("CHATCAST_TIMEZONE", "UTC")
    monkeypatch.setenv("CHATCAST_TELEGRAM_RATE_PER_SECOND", "0")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize("name", ["America", "Nope/Nope", "", "../etc/passwd"])
def test_every_bad_timezone_is_one_configuration_error(
    monkeypatch: pytest.MonkeyPatch, zone_files: str, name: str
) -> None:
    monkeypatch.setenv("CHATCAST_TIMEZONE", name)
    with pytest.raises(ValidationError, match=re.escape(f"unknown timezone {name!r} (use an IANA name such as")):
        Settings()
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip() == (
        f"error: configuration error: CHATCAST_TIMEZONE: unknown timezone {name!r} (use an IANA name such as"
        " Europe/Berlin)"
    )


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin"])
def test_a_known_timezone_is_the_shops_zone(monkeypatch: pytest.MonkeyPatch, zone_files: str, name: str) -> None:
    monkeypatch.setenv("CHATCAST_TIMEZONE", name)
    assert Settings().zone == ZoneInfo(name)


def test_the_shop_url_is_a_web_address_and_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().shop_url is None and Settings().public_view()["shop_url"] == "(not set)"
    monkeypatch.setenv("CHATCAST_SHOP_URL", " https://shop.example.com ")
    assert Settings().public_view()["shop_url"] == "https://shop.example.com"
    monkeypatch.setenv("CHATCAST_SHOP_URL", "")
    assert Settings().shop_url is None
    for bad in ("shop.example.com", "ftp://shop.example.com", "https://", "https://shop example.com"):
        monkeypatch.setenv("CHATCAST_SHOP_URL", bad)
        with pytest.raises(ValidationError, match=r"expected a web address such as https://shop\.example\.com"):
            Settings()


def test_secrets_are_masked_everywhere_they_could_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_TELEGRAM_BOT_TOKEN", "123456:telegram-secret-token")
    monkeypatch.setenv("CHATCAST_SLACK_SIGNING_SECRET", "slack-signing-secret")
    monkeypatch.setenv("CHATCAST_DATABASE_URL", "postgres://shop:db-password-9@db.example.com:5432/shop")
    settings = Settings()
    shown = " ".join([repr(settings), str(settings), str(settings.public_view())])
    for secret in ("telegram-secret-token", "slack-signing-secret", "db-password-9"):
        assert secret not in shown
    assert settings.public_view()["database_url"] == "postgres://shop:***@db.example.com:5432/shop"
    assert set(settings.secret_values()) >= {"123456:telegram-secret-token", "db-password-9"}


def test_logs_never_carry_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(["sk-live-abcdef", "hunter22"], level=logging.INFO)
    log = logging.getLogger("chatcast.test")
    log.warning("calling with key %s and password %s", "sk-live-abcdef", "hunter22")
    try:
        raise RuntimeError("token sk-live-abcdef rejected")
    except RuntimeError:
        log.exception("failed")
    err = capsys.readouterr().err
    assert "sk-live-abcdef" not in err and "hunter22" not in err
    assert err.count("[redacted]") >= 3


def test_json_logs_keep_the_fields_passed_with_extra(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(["sk-live-abcdef"], level=logging.INFO, json_lines=True)
    log = logging.getLogger("campaigns.delivery.dispatcher")
    moment = datetime(2027, 4, 12, 9, 30, tzinfo=UTC)
    extra = {"campaign": "spring", "delivery": 42, "at": moment, "level": "not this", "token": "sk-live-abcdef"}
    log.info("sent %d", 1, extra=extra | {"data": {"keys": ["sk-live-abcdef", 3]}})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed", extra={"delivery": 43})
    sent, failed = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert sent["message"] == "sent 1" and sent["logger"] == "campaigns.delivery.dispatcher"
    assert sent["campaign"] == "spring" and sent["delivery"] == 42 and sent["at"] == str(moment)
    assert sent["level"] == "info"  # an extra field never replaces one of the line's own
    assert sent["token"] == "[redacted]" and sent["data"] == {"keys": ["[redacted]", 3]}
    assert failed["delivery"] == 43 and "RuntimeError: boom" in failed["exception"]


def test_redactor_prefers_longer_secrets_and_ignores_trivial_ones() -> None:
    redactor = SecretRedactor(["abc", "secret", "secret-long"])
    assert redactor.redact("secret-long secret abc") == "[redacted] [redacted] abc"
    assert redact_url("sqlite://data/x.sqlite3") == "sqlite://data/x.sqlite3"

"""Typed settings read once, at the entry point, from the environment and an optional ``.env``."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bots.registry import CHANNELS, ChannelSettings
from storage.currencies import currency_code
from storage.timezones import parse_timezone


class Settings(BaseSettings, ChannelSettings):
    """Everything Chatcast reads from its environment; secrets are ``SecretStr`` and never printed. Each channel's
    own settings (``CHATCAST_<CHANNEL>_*``) are declared in its folder and mixed in from the registry."""

    model_config = SettingsConfigDict(
        env_prefix="CHATCAST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and caches live.")
    database_url: SecretStr | None = Field(
        default=None, description="Tortoise URL (it may hold a password); default: a SQLite file under data_dir."
    )

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CHATCAST_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_model: str = "gpt-4o-mini"
    writer_mode: Literal["persona", "recipient"] = Field(
        default="persona", description="persona: a model call per persona, variant and language; recipient: one each."
    )
    llm_token_budget: int | None = Field(
        default=None, gt=0, description="Tokens a campaign may spend (recipient mode)."
    )
    banned_phrases: list[str] = Field(default_factory=list, description="Phrases no message may contain (JSON list).")
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CHATCAST_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )

    link_secret: SecretStr | None = Field(
        default=None, description="Signs the deep-link tokens that link a chat to a shop customer."
    )
    public_url: str | None = Field(
        default=None,
        description="Where customers reach `chatcast serve` from the web, e.g. https://chat.shop.example.com: tracked"
        " links point there (unset: links go out as they are, and their clicks are not measured).",
    )
    track_links: bool = Field(
        default=True,
        description="Send every web address of a campaign message as a tracked redirect of `chatcast serve` (needs"
        " public_url); false: links go out as they are, and their clicks are not measured.",
    )
    shop_name: str = Field(default="our shop", description="How the bots name the shop to customers.")
    shop_url: str | None = Field(
        default=None,
        description="The shop's address, for {{ shop.url }} in campaign templates, e.g. https://shop.example.com.",
    )
    test_recipient: str | None = Field(
        default=None,
        description="The marketer's own chat for `campaign test-send` without --to: "
        + " or ".join(f"{spec.name}:{spec.address.example}" for spec in CHANNELS)
        + ".",
    )

    timezone: str = Field(default="UTC", description="The shop's timezone (IANA name).")
    shop_currency: str = Field(
        default="USD",
        description="The shop's currency (ISO 4217): an order or product without one is in it, and reports convert"
        " revenue into it with the rates of `chatcast config rates`.",
    )
    segments_file: Path = Field(default=Path("segments.yaml"), description="Personas and segments (YAML).")
    knowledge_file: Path = Field(
        default=Path("knowledge.yaml"), description="The shop's policies the assistant quotes (YAML)."
    )
    feedback_after_days: float | None = Field(
        default=7.0, gt=0, description="Ask about an order this many days after it (unset: never ask)."
    )
    llm_usd_per_million_tokens: float = Field(
        default=0.6, ge=0, description="What a million tokens cost, for the metrics' cost estimate."
    )
    dashboard_user: str = Field(default="admin", description="The dashboard's login name.")
    dashboard_password: SecretStr | None = Field(
        default=None, description="The dashboard's password (HTTP basic auth); unset: no dashboard is served."
    )
    handoff_release_hours: float = Field(
        default=24.0, gt=0, description="A hand-off no person touched for this long goes back to the assistant."
    )
    order_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret of POST /hooks/orders (header X-Chatcast-Secret); unset: no hook."
    )
    redis_url: str | None = Field(
        default=None, description="Redis, e.g. redis://127.0.0.1:6379/0: workers share the bots' rate limits there."
    )
    claim_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A claim not renewed for this long is a dead dispatcher's: released, or unknown if in flight.",
    )
    housekeeping_seconds: float = Field(default=30.0, gt=0, description="How often serve expires dead claims.")
    quiet_hours: str | None = Field(
        default=None,
        pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$",
        description="No marketing message in these local hours of each customer, e.g. 21:00-08:00.",
    )
    frequency_cap_day: int | None = Field(default=None, ge=1, description="Marketing messages per customer a day.")
    frequency_cap_week: int | None = Field(default=None, ge=1, description="Marketing messages per customer a week.")
    frequency_cap_action: Literal["wait", "skip"] = Field(
        default="wait", description="A capped message waits until the customer is under the cap, or is skipped."
    )
    suppress_unhappy: bool = Field(
        default=True,
        description="No promotion to a customer with an open complaint or strongly negative recent words (a"
        " campaign's audience.suppress_unhappy: false opts out).",
    )
    unhappy_sentiment: float = Field(
        default=-0.4, ge=-1, le=1, description="Mean sentiment of recent words at or below which a customer is unhappy."
    )
    unhappy_days: int = Field(default=30, ge=1, description="How far back 'recent words' reach, in days.")

    @field_validator("feedback_after_days", "shop_url", "public_url", mode="before")
    @classmethod
    def _empty_is_never(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shop_url", "public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value.strip():
            raise ValueError(f"expected a web address such as https://shop.example.com, got {value!r}")
        return value.strip()

    @property
    def link_base(self) -> str | None:
        """Where tracked links point (``public_url`` without a trailing slash), or None when links are not tracked."""
        return self.public_url.rstrip("/") if self.track_links and self.public_url else None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        parse_timezone(value)
        return value

    @field_validator("shop_currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return currency_code(value)

    @property
    def quiet_span(self) -> tuple[time, time] | None:
        """``quiet_hours`` as (start, end) times, or None."""
        if not self.quiet_hours:
            return None
        start, end = self.quiet_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)

    @property
    def zone(self) -> ZoneInfo:
        """The shop's timezone."""
        return parse_timezone(self.timezone)

    @property
    def db_url(self) -> str:
        """The database URL to connect to, with the SQLite default filled in."""
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite://{(self.data_dir / 'chatcast.sqlite3').as_posix()}"

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        values = [  # every secret setting, whatever is added later (the database URL: its password, below)
            value.get_secret_value()
            for name in type(self).model_fields
            if name != "database_url"
            and isinstance(value := getattr(self, name), SecretStr)
            and value.get_secret_value()
        ]
        password = urlsplit(self.db_url).password
        if password:
            values.append(password)
        return values

    def public_view(self) -> dict[str, str]:
        """Settings as printable strings: secrets masked, passwords stripped from URLs."""
        view: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown = "********" if value.get_secret_value() else "(empty)"
            elif value is None:
                shown = "(not set)"
            else:
                shown = str(value)
            view[name] = shown
        view["database_url"] = redact_url(self.db_url)
        return view


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))

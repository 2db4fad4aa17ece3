"""A campaign as a marketer writes it in YAML: the typed model (pydantic), which also gives the JSON Schema.

Loading a file with located errors (file, line, field) and the checks against the shop's personas, segments
and catalog live in :mod:`campaigns.file.loader`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from campaigns.file.amounts import DISCOUNT_PATTERN, discount_problem, share, share_schema
from storage.timezones import parse_timezone

SLUG = r"^[a-z][a-z0-9_-]{0,63}$"
Slug = Annotated[str, Field(pattern=SLUG)]
# a chat channel's name; which ones exist is the composition root's to say (``parse_campaign(channels=...)``)
ChannelName = Annotated[str, Field(min_length=1, max_length=16)]
CRON_ITEM = re.compile(r"(\*|(\w+)(?:-(\w+))?)(?:/(\d+))?")
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# name, lowest, highest, names (their index + lowest is their number)
CRON_FIELDS: tuple[tuple[str, int, int, list[str]], ...] = (
    ("minute", 0, 59, []),
    ("hour", 0, 23, []),
    ("day of month", 1, 31, []),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)


class Strict(BaseModel):
    """Unknown keys are mistakes (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Audience(Strict):
    """Who gets the campaign: personas and segments (any of them), minus exclusions, less a holdout share."""

    personas: list[Slug] = Field(default_factory=list, description="Persona ids; empty: every persona.")
    segments: list[Slug] = Field(default_factory=list, description="Segment ids; a customer in any of them.")
    exclude_personas: list[Slug] = Field(default_factory=list, description="Persona ids left out.")
    exclude_segments: list[Slug] = Field(default_factory=list, description="Segment ids whose customers are left out.")
    holdout: float = Field(
        default=0.0,
        ge=0.0,
        le=0.5,
        description="Share kept back, unsent, to measure lift: 0.1 or 10%.",
        json_schema_extra=lambda schema: share_schema(schema),
    )
    suppress_unhappy: bool | None = Field(
        default=None,
        description="Skip customers with an open complaint or strongly negative recent words: unset follows the"
        " shop's CHATCAST_SUPPRESS_UNHAPPY; false sends to them anyway; true suppresses even where the shop does not.",
    )

    @field_validator("holdout", mode="before")
    @classmethod
    def _holdout(cls, value: object) -> object:
        return share(value, most=0.5, what="the holdout")


class Offer(Strict):
    """The deal: a code, what it gives, and until when."""

    code: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The code the customer enters."
    )
    discount: str = Field(
        description="A share above 0% and at most 100% ('20%'), or an amount with its ISO 4217 currency ('10 EUR').",
        json_schema_extra={"pattern": DISCOUNT_PATTERN},
    )
    expires: date | None = Field(default=None, description="The last day the offer holds.")

    @field_validator("discount", mode="before")
    @classmethod
    def _discount(cls, value: object) -> object:
        problem = discount_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Recommend(Strict):
    """Products chosen per customer from their purchase history."""

    rule: Literal["cross_sell", "upsell", "bestsellers"]
    category: str | None = Field(default=None, description="bestsellers: the category; others: a filter.")
    count: int = Field(default=3, ge=1, le=10, description="How many products each customer gets.")
    fill: Literal["category", "any"] = Field(
        default="category",
        description="What tops up a short list: category (its bestsellers only; the whole catalog when no category"
        " is named) or any (then the bestsellers of every category).",
    )


class Products(Strict):
    """Fixed SKUs, or a recommendation rule (not both)."""

    skus: list[str] = Field(default_factory=list, description="The same products for everyone, by SKU.")
    recommend: Recommend | None = Field(default=None, description="Products picked per customer by a rule.")

    @model_validator(mode="after")
    def _one_kind(self) -> Products:
        if bool(self.skus) == (self.recommend is not None):
            raise ValueError("give either skus or a recommend rule (one of the two)")
        return self


class ButtonSpec(Strict):
    """A button under the message: a link (its URL is a template) or an action the chat reports back."""

    text: str = Field(min_length=1, max_length=64, description="The button's label.")
    url: str | None = Field(default=None, description="Jinja2 template, e.g. https://shop/p/{{ product.sku }}")
    action: Slug | None = Field(default=None, description="An action the chat reports back, e.g. snooze.")

    @model_validator(mode="after")
    def _one_kind(self) -> ButtonSpec:
        if (self.url is None) == (self.action is None):
            raise ValueError("a button has either url or action")
        return self


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif")  # what Telegram's sendPhoto and Slack's image block both show
IMAGE_URL_MAX = 3000  # Slack's image_url limit; Telegram states none
IMAGE_ALT_MAX = 2000  # Slack's alt_text limit
NOT_SHOWN = (".webp", ".svg", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif", ".pdf", ".mp4", ".mov", ".webm")


class Image(Strict):
    """A picture sent with the message, whose text becomes its caption: a public https address, and words for it."""

    url: str = Field(
        max_length=IMAGE_URL_MAX,
        description="Where the picture is, e.g. https://shop.example.com/img/spring.jpg: a public https address (the"
        " chat platforms fetch it) of a JPEG, PNG or GIF of at most 5 MB.",
    )
    alt: str = Field(
        min_length=1,
        max_length=IMAGE_ALT_MAX,
        description="What the picture shows, in a few words, for people who cannot see it (its alt text).",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_file(cls, value: Any) -> Any:
        if isinstance(value, dict) and "file" in value:
            raise ValueError(
                "a file cannot be sent: put the picture where your shop keeps its images (its CDN) and give its"
                " https address as url"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        problem = image_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def image_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a message's picture: not https with a host, or a kind of file neither platform shows."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() != "https" or not parts.hostname or url != url.strip() or " " in url:
        return f"must be an https address such as https://shop.example.com/img/spring.jpg, got {url!r}"
    suffix = PurePosixPath(parts.path).suffix.lower()
    if suffix in NOT_SHOWN:
        return (
            f"a {suffix[1:].upper()} picture is not shown by every channel: give a JPEG, PNG or GIF"
            f" ({', '.join(IMAGE_SUFFIXES)})"
        )
    return None


class Message(Strict):
    """What to say: a brief for the model, tones per persona, and the template (template mode and fallback)."""

    brief: str = Field(min_length=1, description="What the message must get across; the model's instructions.")
    tone: dict[str, str] = Field(default_factory=dict, description="Tone per persona id (default: the persona's).")
    template: str = Field(min_length=1, description="Jinja2 text: template mode, and the fallback.")
    buttons: list[ButtonSpec] = Field(default_factory=list, max_length=5, description="Buttons under the message.")
    max_length: int | None = Field(
        default=None, ge=50, le=4000, description="Characters at most, under the channel's own limit."
    )
    image: Image | None = Field(
        default=None,
        description="A picture sent with the message, the text its caption (where a chat's captions are shorter,"
        " the rest follows it).",
    )
    language: str = Field(
        default="customer",
        pattern=r"^(customer|[a-z]{2,3}(-[A-Za-z0-9]{2,8})?)$",
        description="'customer' (each one's) or a language code such as en or pt-BR.",
    )


class VariantStep(Strict):
    """A variant's own words (and picture) for one follow-up (what it leaves out is the follow-up's own)."""

    brief: str | None = Field(default=None, min_length=1, description="Replaces the follow-up's brief.")
    template: str | None = Field(default=None, min_length=1, description="Replaces the follow-up's template.")
    image: Image | None = Field(default=None, description="Replaces the follow-up's picture (or gives it one).")


class Variant(Strict):
    """An A/B arm: its weight, and what it changes in the main message (``brief``, ``template``, ``image``) and in
    each follow-up (``steps``: by follow-up id; a follow-up it does not name says its own words)."""

    id: Slug = Field(description="The variant's name in reports.")
    weight: float = Field(default=1.0, gt=0, description="Its share of the audience, relative to the others' weights.")
    control: bool = Field(
        default=False,
        description="The baseline the report compares the other variants with (default: the first variant listed).",
    )
    brief: str | None = Field(default=None, description="Replaces the main message's brief.")
    template: str | None = Field(default=None, description="Replaces the main message's template.")
    image: Image | None = Field(default=None, description="Replaces the main message's picture (or gives it one).")
    steps: dict[str, VariantStep] = Field(
        default_factory=dict,
        description="Its own brief, template or image per follow-up id, e.g. {reminder: {brief: ...}}.",
    )


class Window(Strict):
    """A daily sending window in the customer's local time."""

    start: time = Field(description="The first minute messages may go, e.g. 09:00.")
    end: time = Field(description="When sending stops, e.g. 20:00 (before start: the window spans midnight).")

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if self.start == self.end:
            raise ValueError("the window starts and ends at the same time")
        return self


class Schedule(Strict):
    """When to send (acted on by the scheduler): at a moment, by cron, in local time, within a window."""

    start_at: datetime | None = Field(default=None, description="The first moment to send; unset: at launch.")
    cron: str | None = Field(default=None, description="Five fields: minute hour day-of-month month day-of-week.")
    local_time: time | None = Field(default=None, description="Send at this time in each customer's timezone.")
    window: Window | None = Field(default=None, description="A daily sending window in each customer's local time.")
    end_at: datetime | None = Field(default=None, description="Nothing of the campaign is sent after this moment.")
    timezone: str | None = Field(default=None, description="IANA zone for times without one, e.g. Europe/Berlin.")
    send_time: Literal["fixed", "best"] = Field(
        default="fixed", description="best: each customer's best hour of the week (learnt), within the window."
    )
    send_time_control: float = Field(
        default=0.2, ge=0.05, le=0.5, description="send_time best: the share kept at the fixed time, to compare."
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        problem = cron_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None:
            parse_timezone(value, suggest=True)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        try:
            backwards = self.start_at is not None and self.end_at is not None and self.end_at <= self.start_at
        except TypeError:  # one has a timezone and the other not: the scheduler resolves both first
            backwards = False
        if backwards:
            raise ValueError("end_at must be after start_at")
        return self


def cron_problem(expr: str) -> str | None:
    """Why ``expr`` is not a five-field crontab expression (standard cron: day of week 0 and 7 are Sunday)."""
    fields = expr.split()
    if len(fields) != 5:
        return f"a cron has 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}"
    for text, (name, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for item in text.split(","):
            match = CRON_ITEM.fullmatch(item.lower())
            if not match:
                return f"{name}: {item!r} is not a value, range, list or step"
            given = [v for v in match.group(2, 3) if v is not None]
            values = [n for v in given if (n := _cron_value(v, low, names)) is not None and low <= n <= high]
            if len(values) != len(given):
                return f"{name}: {item!r} is out of range ({low}-{high}{', or names' if names else ''})"
            if len(values) == 2 and values[0] > values[1]:
                return f"{name}: {item!r} is a backwards range"
            if match.group(4) is not None and int(match.group(4)) == 0:
                return f"{name}: {item!r} has a step of 0"
    return None


def _cron_value(text: str, low: int, names: list[str]) -> int | None:
    if text.isdigit():
        return int(text)
    return names.index(text) + low if text in names else None


Condition = Literal["clicked", "not_clicked", "replied", "not_replied", "purchased", "not_purchased"]


class AnyOf(Strict):
    """Conditions of which at least one must hold (``{any: [clicked, replied]}``)."""

    any: list[Condition] = Field(min_length=2, description="At least two conditions, one of which must hold.")


def _when_kind(value: Any) -> str:
    return "any_of" if isinstance(value, dict | AnyOf) else "condition"


# a tagged union: a mistake is reported once, against what the item looks like (a name, or an {any: ...} map)
When = Annotated[Annotated[Condition, Tag("condition")] | Annotated[AnyOf, Tag("any_of")], Discriminator(_when_kind)]


class FollowUp(Strict):
    """A later step: after a delay since the previous step, when its condition holds."""

    id: Slug = Field(description="The step's name in reports and in variants' steps.")
    after: str = Field(pattern=r"^\d+\s*(m|h|d)$", description="e.g. 30m, 24h, 3d")
    when: list[When] = Field(
        default_factory=list,
        description="All must hold (and); an item {any: [...]} holds when one of its conditions does (or); not_: not.",
    )
    message: Message = Field(description="The follow-up's own words.")


class FrequencyCap(Strict):
    """At most so many marketing messages per customer, across all campaigns (the shop's settings by default)."""

    day: int | None = Field(default=None, ge=1, description="Messages per customer in any 24 hours.")
    week: int | None = Field(default=None, ge=1, description="Messages per customer in any 7 days.")
    action: Literal["wait", "skip"] = Field(
        default="wait", description="wait: send once the customer is under the cap again; skip: do not send."
    )

    @property
    def active(self) -> bool:
        """Whether it limits anything."""
        return self.day is not None or self.week is not None


class Campaign(Strict):
    """One campaign file."""

    id: Slug = Field(description="The campaign's key in the database and the CLI.")
    name: str = Field(min_length=1, max_length=200, description="A title for people.")
    channels: list[ChannelName] = Field(min_length=1, description="In order of preference.")
    audience: Audience = Field(default_factory=Audience, description="Who gets it.")
    offer: Offer | None = Field(default=None, description="The deal the messages announce.")
    products: Products | None = Field(default=None, description="The products the messages show.")
    message: Message = Field(description="The main message.")
    variants: list[Variant] = Field(default_factory=list, description="A/B arms; the split is a stable hash.")
    send_rate: float | None = Field(default=None, gt=0, description="Messages per second, at most.")
    schedule: Schedule | None = Field(default=None, description="When it goes out; unset: at launch.")
    follow_ups: list[FollowUp] = Field(default_factory=list, description="Later steps, in order.")
    stop_when: list[Literal["purchased", "opted_out", "replied"]] = Field(
        default_factory=list,
        description="What ends a customer's journey (judged since the campaign first reached them).",
    )
    attribution_days: int = Field(
        default=7, ge=1, le=90, description="An order within so many days of a message is credited to it."
    )
    frequency_cap: FrequencyCap | None = Field(default=None, description="Overrides the shop's frequency cap.")
    copy_test: bool = Field(default=False, description="Hold a share of the audience on the template copy.")
    copy_test_share: float = Field(
        default=0.2, ge=0.05, le=0.5, description="copy_test: the share that gets the template copy."
    )


def campaign_schema(channels: Sequence[str] | None = None) -> dict[str, Any]:
    """The JSON Schema of a campaign file, for editors that autocomplete and check YAML; ``channels``: the names
    a campaign may send on (any channel-like name without them)."""
    schema = Campaign.model_json_schema()
    if channels is not None:
        schema["properties"]["channels"]["items"] = {"enum": list(channels), "type": "string"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Chatcast campaign",
        **{k: v for k, v in schema.items() if k != "title"},
    }

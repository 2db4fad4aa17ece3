"""What a valid row of each import kind looks like (pydantic), and how a bad one is described."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

from storage.currencies import currency_code
from storage.errors import ChatcastError
from storage.importers.values import Moment, decimal
from storage.timezones import parse_timezone

ORDER_STATUSES = ("placed", "paid", "shipped", "delayed", "delivered", "cancelled", "returned", "refunded")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LINK = re.compile(r"^https?://[^\s/]+\S*$")
# a carrier's name goes into a notice word for word: a name, never a link, a code or a promotion
_CARRIER = re.compile(r"^[^\W_]+(?:[ .&'-]+[^\W_]+)*\.?$")
_DOMAIN = re.compile(r"[^\W_]\.[^\W\d_]{2,}")  # dhl.de, www.promo.com; not U.S. Mail


def _split_tags(value: Any) -> Any:
    if isinstance(value, str):
        return [t.strip() for t in re.split(r"[;|]", value) if t.strip()]
    return value


def _json_object(value: Any) -> Any:
    """A CSV cell holding a JSON object (``{"material": "wool"}``) as that object."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("is not a JSON object (check the quotes)") from None
    return value


def _round_money(value: float) -> float:
    return round(value, 4)


def _bool(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "y", "t"):
            return True
        if lowered in ("0", "false", "no", "n", "f"):
            return False
    return value


Key = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tags = Annotated[list[Annotated[str, StringConstraints(max_length=64)]], BeforeValidator(_split_tags)]
MAX_INT = 2**31 - 1  # the database's INTEGER columns (PostgreSQL's int4): stock, a line's number
MAX_QUANTITY = 1_000_000  # units on one order line
MAX_MONEY = 10**12  # a price in any currency (a trillion: a car in dong); line totals stay exact floats

Money = Annotated[
    float, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False), BeforeValidator(decimal), AfterValidator(_round_money)
]
Flag = Annotated[bool, BeforeValidator(_bool)]
DEFAULT_CURRENCY = "USD"  # where the caller names no shop currency (CHATCAST_SHOP_CURRENCY)


def _currency(value: Any, info: ValidationInfo) -> str:
    """An ISO 4217 code (``eur`` is EUR); absent, the shop's currency that the import or the webhook was given."""
    if value is None or value == "":
        return str((info.context or {}).get("currency", DEFAULT_CURRENCY))
    if not isinstance(value, str):
        raise ValueError(f"{shown(value)} is not a currency code (such as EUR, USD, GBP, JPY)")
    return currency_code(value)


# validated when absent too (``Field(default="", validate_default=True)``): it becomes the shop's currency
Currency = Annotated[str, BeforeValidator(_currency)]


def _aware(value: datetime, info: ValidationInfo) -> datetime:
    """Naive timestamps are read in the shop's timezone; everything is stored in UTC."""
    if value.tzinfo is None:
        zone: tzinfo = (info.context or {}).get("tz", UTC)
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class CustomerRow(_Row):
    """A customer: ``external_id`` is the shop's id; ``attr_*`` columns become custom attributes. The columns that
    link chat identities are the channels' (:class:`IdentityColumn`), added by :func:`customer_row`."""

    external_id: Key
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    email: str | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    language: str = "en"
    timezone: str | None = None
    country: Annotated[str, StringConstraints(max_length=64)] | None = None
    tags: Tags = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    opted_in_at: Moment | None = None
    opted_out_at: Moment | None = None
    consent_source: Annotated[str, StringConstraints(max_length=64)] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 254 or not _EMAIL.match(value)):
            raise ValueError(f"{value!r} is not an email address")
        return value.lower() if value else value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError(f"{value!r} is not a language code such as 'en' or 'pt-BR'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_timezone(value)
        return value

    @field_validator("opted_in_at", "opted_out_at")
    @classmethod
    def _utc(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return None if value is None else _aware(value, info)


@dataclass(frozen=True)
class IdentityColumn:
    """A customers-file column that links a chat identity, as a channel declares it: the column, the channel,
    the cell's type (pydantic; a bad cell is refused like any other) and the address a valid cell becomes."""

    column: str
    channel: str
    type: Any
    address: Callable[[Any], str]


def customer_row(identities: Sequence[IdentityColumn]) -> type[CustomerRow]:
    """:class:`CustomerRow` with an optional column per chat identity."""
    if not identities:
        return CustomerRow
    columns: dict[str, Any] = {c.column: (c.type | None, None) for c in identities}
    return create_model("CustomerRow", __base__=CustomerRow, __doc__=CustomerRow.__doc__, **columns)


class ProductRow(_Row):
    """A catalog item, keyed by SKU; ``attributes`` (a JSON object, or ``attr_*`` columns) are its specifications."""

    sku: Key
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    category: Annotated[str, StringConstraints(max_length=100)] = ""
    price: Money
    currency: Currency = Field(default="", validate_default=True)
    url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://\S+$")] | None = None
    stock: Annotated[int, Field(ge=0, le=MAX_INT)] | None = None
    tags: Tags = Field(default_factory=list)
    description: str = ""
    attributes: Annotated[dict[str, Any], BeforeValidator(_json_object)] = Field(default_factory=dict)
    active: Flag = True


class OrderLineRow(_Row):
    """One line of an order; the order's own fields repeat on each of its lines."""

    order_id: Key
    customer_id: Key
    ordered_at: Moment
    sku: Key
    quantity: Annotated[int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
    unit_price: Money
    status: Literal[ORDER_STATUSES] = "paid"  # type: ignore[valid-type]
    currency: Currency = Field(default="", validate_default=True)
    discount_code: Annotated[str, StringConstraints(max_length=64)] | None = None
    line: Annotated[int, Field(ge=1, le=MAX_INT)] | None = None
    is_return: Flag | None = None
    tracking_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    carrier: Annotated[str, StringConstraints(max_length=64)] | None = None
    # validated even when absent: a delayed order must say its new date
    expected_at: Moment | None = Field(default=None, validate_default=True)
    status_changed_at: Moment | None = None  # when the order reached ``status``, where the shop knows it
    return_of: Key | None = None  # a return's original order, which the return takes money back from
    refunded: Money | None = None  # money refunded on this order without a return of its own: a partial refund

    @field_validator("ordered_at")
    @classmethod
    def _utc(cls, value: datetime, info: ValidationInfo) -> datetime:
        return _aware(value, info)

    @field_validator("status_changed_at")
    @classmethod
    def _utc_or_none(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return None if value is None else _aware(value, info)

    @field_validator("tracking_url")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        if value is not None and not _LINK.match(value):
            raise ValueError(f"{value!r} is not an http(s) link (e.g. https://track.example/123)")
        return value

    @field_validator("carrier")
    @classmethod
    def _carrier(cls, value: str | None) -> str | None:
        if value is not None and (not _CARRIER.match(value) or _DOMAIN.search(value)):
            raise ValueError(
                f"{value!r} is not a carrier's name (letters, digits, spaces and . - & ' only; no links or codes)"
            )
        return value

    @field_validator("expected_at")
    @classmethod
    def _expected(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None and info.data.get("status") == "delayed":
            raise ValueError("a delayed order needs its new expected date (expected_at)")
        return None if value is None else _aware(value, info)

    @field_validator("quantity")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("quantity must not be 0")
        return value

    @field_validator("return_of")
    @classmethod
    def _other_order(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("order_id"):
            raise ValueError("a return's original order is another order (return_of names the order returned)")
        return value

    @property
    def returned(self) -> bool:
        """A return or cancellation: flagged, naming the order it returns, with a return status, or with a negative
        quantity."""
        if self.is_return is not None:
            return self.is_return
        return self.return_of is not None or self.status in ("returned", "cancelled", "refunded") or self.quantity < 0


class RowProblem(ChatcastError, ValueError):
    """A bad row found by a kind's own parsing, naming the column it is about."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class RowError(BaseModel):
    """Why one row was refused: file, row, line, column and reason."""

    file: str
    row: int
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file} row {self.row} (line {self.line})"
        column = f", column '{self.column}'" if self.column else ""
        return f"{where}{column}: {self.reason}"


def describe(exc: ValidationError, data: dict[str, Any]) -> tuple[str | None, str]:
    """The column and a one-line reason for the first problem pydantic found."""
    error = exc.errors(include_url=False)[0]
    names = [part for part in error["loc"] if isinstance(part, str)]
    column = names[-1] if names else None
    if error["type"] == "missing":
        return column, "required value is missing"
    if error["type"] == "extra_forbidden":
        return column, "unknown column (custom attributes are named attr_<name>)"
    message = error["msg"].removeprefix("Value error, ")
    if column is not None and column in data and error["type"] != "value_error":
        message = f"{message} (got {shown(data[column])})"
    return column, message


def shown(value: Any, limit: int = 80) -> str:
    """``value`` as an error message quotes it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def attribute_value(value: Any) -> Any:
    """A custom attribute as a rule compares it: text that is a plain number (``12``, ``4.5``, not ``007``)
    becomes a number; anything else stays as given."""
    if type(value) is str and NUMBER.fullmatch(value):
        return float(value) if "." in value else int(value)
    return value


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """Strip text, treat empty cells as absent, gather ``attr_*`` columns into ``attributes``."""
    # a hot path (once per imported row): comprehensions rather than a loop with branches
    out: dict[str, Any] = {
        key: value
        for key, raw in data.items()
        if (value := raw.strip() if type(raw) is str else raw) != "" and value is not None
    }
    attributes = [key for key in out if key.startswith("attr_")]
    if attributes:
        extra = {key.removeprefix("attr_"): attribute_value(out.pop(key)) for key in attributes}
        given = out.get("attributes") or {}
        if isinstance(given, str):  # a CSV's JSON cell beside attr_* columns: both go into the one object
            try:
                given = _json_object(given)
            except ValueError as exc:
                raise RowProblem("attributes", str(exc)) from None
        if not isinstance(given, dict):
            raise RowProblem("attributes", "is not a JSON object")
        out["attributes"] = {**given, **extra}
    return out

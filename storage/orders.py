"""One order from a shop's webhook, read by the importers' rules (:mod:`storage.importers.checks`) and upserted
like an imported one (by order id; lines by position)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from pydantic import ValidationError

from storage.errors import ChatcastError
from storage.importers.checks import ValueRefused, loads
from storage.importers.kinds import OrdersKind
from storage.importers.rows import OrderLineRow, describe
from storage.importers.runner import Parsed
from storage.importers.sources import RawRow
from storage.sql import transaction

MAX_BODY = 1024**2  # bytes of one webhook call (aiohttp's own limit)


class OrderRejected(ChatcastError, ValueError):
    """The order cannot be stored: the field and the reason."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field, self.reason = field, reason


class BodyRefused(OrderRejected):
    """The body is no order at all: not UTF-8, not JSON, nested too deep to read, not an object."""


def read_order(body: bytes) -> dict[str, Any]:
    """A webhook call's body as an order to give :func:`upsert_order`: JSON text whose every value keeps the
    importers' rules (no NUL or control character, nesting, sizes, finite numbers). Raises :class:`BodyRefused`,
    or :class:`OrderRejected` naming the field of a value that breaks a rule."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise BodyRefused(None, f"the body is not UTF-8 text (byte {exc.start})") from None
    try:
        order = loads(text)
    except ValueRefused as exc:
        if exc.path is None:
            raise BodyRefused(None, f"the body is {exc.reason}") from None
        raise OrderRejected(exc.path, exc.reason) from None
    if not isinstance(order, dict):
        raise BodyRefused(None, "the body must be a JSON object (an order)")
    return order


def _lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    common = {k: v for k, v in order.items() if k != "lines"}
    lines = order.get("lines")
    if not isinstance(lines, list) or not lines:
        raise OrderRejected("lines", "an order needs a list of lines (sku, quantity, unit_price)")
    out = []
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            raise OrderRejected(f"lines[{number - 1}]", "a line is an object with sku, quantity, unit_price")
        out.append({**common, "line": number, **line})
    return out


async def upsert_order(order: dict[str, Any], tz: tzinfo | None = None, currency: str | None = None) -> str:
    """Store ``order`` (``order_id``, ``customer_id``, ``ordered_at``, ``lines`` ...); its id. Raises OrderRejected
    naming the field at fault: a bad value (a currency that is no ISO 4217 code), an unknown customer or product.
    Times without a zone (a date-only ``expected_at``) are read in ``tz``, the shop's (UTC when None); an order
    without a ``currency`` is in ``currency``, the shop's (USD when None)."""
    kind = OrdersKind(live=True)
    context: dict[str, Any] = {"tz": tz} if tz else {}
    if currency:
        context["currency"] = currency
    parsed: list[Parsed[OrderLineRow]] = []
    for number, data in enumerate(_lines(order), start=1):
        try:
            row = OrderLineRow.model_validate(data, context=context or None)
            parsed.append(Parsed(RawRow(number, number, data), row))
        except ValidationError as exc:
            column, reason = describe(exc, data)
            where = f"lines[{number - 1}].{column}" if column in ("sku", "quantity", "unit_price", "line") else column
            raise OrderRejected(where, reason) from None
    async with transaction() as conn:
        refused: Sequence[tuple[RawRow, str | None, str]] = await kind.write(conn, parsed, list(parsed[0].raw.data))
        if refused:
            raw, column, reason = refused[0]
            raise OrderRejected(f"lines[{raw.row - 1}].{column}" if column == "sku" else column, reason)
    return parsed[0].value.order_id

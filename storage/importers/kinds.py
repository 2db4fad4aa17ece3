"""The import kinds: customers (with chat identities), products, orders, and the UCI Online Retail layout."""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient

from storage import bulk, notices, order_news
from storage.credits import Credits
from storage.customer_columns import CUSTOMER_COLUMNS, UPDATABLE_COLUMNS
from storage.importers.rows import (
    CustomerRow,
    IdentityColumn,
    OrderLineRow,
    ProductRow,
    RowProblem,
    clean,
    customer_row,
    describe,
)
from storage.importers.runner import Parsed
from storage.importers.sources import RawRow

Refusal = tuple[RawRow, str | None, str]

PRODUCT_COLUMNS = (
    "name", "category", "price", "currency", "url", "stock", "tags", "description", "attributes", "active",
)  # fmt: skip
ORDER_UPDATES = ("customer_id", "ordered_at", "status", "is_return", "currency", "discount_code", "status_changed_at")
# updated only when given: a later webhook call or file that leaves them out keeps them
OPTIONAL_COLUMNS = ("tracking_url", "carrier", "expected_at", "return_of", "refunded")


def _header_problem(model: type[BaseModel], columns: Sequence[str]) -> str | None:
    known = set(model.model_fields)
    unknown = [c for c in columns if c not in known and not c.startswith("attr_")]
    if unknown:
        known_list = ", ".join(sorted(known))
        return f"unknown column {unknown[0]!r} (known: {known_list}; custom attributes: attr_<name>)"
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [c for c in required if c not in columns]
    if missing:
        return f"missing required column {missing[0]!r}"
    return None


def _present(columns: Sequence[str], candidates: Sequence[str]) -> list[str]:
    """The table columns an import may overwrite: those the file actually has."""
    given = set(columns)
    if any(c.startswith("attr_") for c in given):
        given.add("attributes")
    return [c for c in candidates if c in given]


def _last_wins(batch: list[Parsed[Any]], key: str) -> list[Parsed[Any]]:
    """Rows de-duplicated by ``key`` within a batch; the later row wins, as it would row by row."""
    return list({getattr(p.value, key): p for p in batch}.values())


class _ModelKind:
    """A kind whose rows are validated by one pydantic model, whose fields are the file's columns."""

    row_model: type[BaseModel]
    key_name: str | None = None

    def key_of(self, value: Any) -> Hashable | None:
        """The key ``value`` upserts by (None: it has none of its own)."""
        return None

    def check_columns(self, columns: Sequence[str]) -> str | None:
        return _header_problem(self.row_model, columns)

    def parse(self, data: dict[str, Any], context: dict[str, Any]) -> Any:
        return self.row_model.model_validate(clean(data), context=context)


class CustomersKind(_ModelKind):
    """Customers keyed by ``external_id``; the channels' ``identities`` columns link chat identities."""

    name = "customers"
    tables: tuple[str, ...] = ("customer", "channel_identity")
    row_model = CustomerRow
    key_name: str | None = "external_id"

    def key_of(self, value: CustomerRow) -> Hashable | None:
        return value.external_id

    def __init__(self, identities: Sequence[IdentityColumn] = ()) -> None:
        self.identities = tuple(identities)
        self.row_model = customer_row(self.identities)

    async def write(
        self, conn: BaseDBAsyncClient, batch: list[Parsed[CustomerRow]], columns: Sequence[str]
    ) -> list[Refusal]:
        now = datetime.now(UTC)
        rows = [
            {
                **{name: getattr(c, name) for name in CUSTOMER_COLUMNS},
                "tags": json.dumps(c.tags),
                "attributes": json.dumps(c.attributes, sort_keys=True),
                "created_at": now,
            }
            for c in (p.value for p in _last_wins(batch, "external_id"))
        ]
        await bulk.upsert(conn, "customer", rows, conflict=["external_id"], update=_present(columns, UPDATABLE_COLUMNS))
        links = [(p.value, ch, addr) for p in batch for ch, addr in self._addresses(p.value)]
        if links:
            ids = await bulk.id_map(conn, "customer", "external_id", (c.external_id for c, _, _ in links))
            identities = {
                (ch, addr): {
                    "customer_id": ids[c.external_id],
                    "channel": ch,
                    "address": addr,
                    "reachable": True,
                    "linked_at": now,
                }
                for c, ch, addr in links
            }
            await bulk.upsert(
                conn,
                "channel_identity",
                list(identities.values()),
                conflict=["channel", "address"],
                update=["customer_id"],
            )
        return []

    def _addresses(self, customer: CustomerRow) -> list[tuple[str, str]]:
        """(channel, address) of each chat the row links, as each channel reads its column."""
        cells = ((c, getattr(customer, c.column, None)) for c in self.identities)
        return [(c.channel, c.address(value)) for c, value in cells if value is not None]


def _product_dict(p: ProductRow) -> dict[str, Any]:
    return {
        "sku": p.sku,
        "name": p.name,
        "category": p.category,
        "price": p.price,
        "currency": p.currency,
        "url": p.url,
        "stock": p.stock,
        "tags": json.dumps(p.tags),
        "description": p.description,
        "attributes": json.dumps(p.attributes, sort_keys=True),
        "active": p.active,
    }


class ProductsKind(_ModelKind):
    """Catalog items keyed by ``sku``."""

    name = "products"
    tables: tuple[str, ...] = ("product",)
    row_model = ProductRow
    key_name: str | None = "sku"

    def key_of(self, value: ProductRow) -> Hashable | None:
        return value.sku

    async def write(
        self, conn: BaseDBAsyncClient, batch: list[Parsed[ProductRow]], columns: Sequence[str]
    ) -> list[Refusal]:
        rows = [_product_dict(p.value) for p in _last_wins(batch, "sku")]
        await bulk.upsert(conn, "product", rows, conflict=["sku"], update=_present(columns, PRODUCT_COLUMNS))
        return []


class OrdersKind(_ModelKind):
    """Order lines; an order names a known customer and each line a known product, or the row is refused. Status
    changes worth a notice are recorded (:mod:`storage.notices`); ``live`` (the webhook): an order first seen
    is news too. ``at``: when Chatcast learns of the rows (an import's start, a webhook call's arrival), stored as
    each new order's ``seen_at``. ``credits``: each batch's orders are credited to the campaign
    messages that brought them (:mod:`storage.credits`), and the credits of those cancelled or returned follow."""

    name = "orders"
    tables: tuple[str, ...] = ("order", "order_item")
    row_model = OrderLineRow
    key_name: str | None = "order_id and line"

    def key_of(self, value: OrderLineRow) -> Hashable | None:
        """An order line's key, where the file numbers its lines (else each row is a line of its own)."""
        return None if value.line is None else (value.order_id, value.line)

    def __init__(self, live: bool = False, at: datetime | None = None, credits: Credits | None = None) -> None:
        self.live = live
        self.at = at or datetime.now(UTC)
        self.credits = credits

    def line_of(self, item: Parsed[OrderLineRow]) -> int:
        """The line key: the file's ``line`` column, else the row's position in the file."""
        return item.value.line or item.raw.row

    async def write(
        self, conn: BaseDBAsyncClient, batch: list[Parsed[OrderLineRow]], columns: Sequence[str]
    ) -> list[Refusal]:
        refused: list[Refusal] = []
        customers = await bulk.id_map(conn, "customer", "external_id", (p.value.customer_id for p in batch))
        products = await bulk.id_map(conn, "product", "sku", (p.value.sku for p in batch))
        good = []
        for item in batch:
            line = item.value
            if line.customer_id not in customers:
                refused.append((item.raw, "customer_id", f"unknown customer {line.customer_id!r}"))
            elif line.sku not in products:
                refused.append((item.raw, "sku", f"unknown product {line.sku!r}"))
            else:
                good.append(item)
        lines = {(p.value.order_id, self.line_of(p)): p.value for p in good}  # a repeated line: the last wins
        totals: dict[str, float] = {}
        for (order, _), line in lines.items():
            totals[order] = totals.get(order, 0.0) + line.quantity * line.unit_price
        before = await order_news.priors(conn, (p.value.order_id for p in good))
        latest = {p.value.order_id: _forward(p.value, before.get(p.value.order_id)) for p in good}
        changed = {order: self._changed_at(line, before.get(order)) for order, line in latest.items()}
        orders = {
            order: {
                "external_id": order,
                "customer_id": customers[line.customer_id],
                "ordered_at": line.ordered_at,
                "status": line.status,
                "is_return": line.returned,
                "currency": line.currency,
                "discount_code": line.discount_code,
                "tracking_url": line.tracking_url,
                "carrier": line.carrier,
                "expected_at": line.expected_at,
                # right for an order whose lines are all in this batch; the UPDATE below corrects the rest
                "total": round(totals[order], 4),
                "seen_at": self.at,  # on insert only: it is not among the columns updated
                "status_changed_at": changed[order],
                "return_of": line.return_of,
                "refunded": line.refunded or 0.0,
            }
            for order, line in latest.items()
        }
        news = self._news([p.value for p in good], before)
        await bulk.upsert(
            conn,
            "order",
            list(orders.values()),
            conflict=["external_id"],
            update=[*ORDER_UPDATES, *_present(columns, OPTIONAL_COLUMNS)],
        )
        order_ids = await bulk.id_map(conn, "order", "external_id", orders)
        await notices.record(conn, news, order_ids, datetime.now(UTC))
        items = [
            {
                "order_id": order_ids[order],
                "line": number,
                "product_id": products[line.sku],
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
            for (order, number), line in lines.items()
        ]
        await bulk.upsert(
            conn, "order_item", items, conflict=["order_id", "line"], update=["product_id", "quantity", "unit_price"]
        )
        await _recompute_totals(conn, list(order_ids.values()))
        if self.credits is not None:
            await self.credits.give(conn, list(order_ids.values()))
        return refused

    def _news(self, lines: Sequence[OrderLineRow], before: dict[str, order_news.Stored]) -> list[order_news.Notice]:
        """The orders' status changes worth a notice, judged against the orders as stored before this batch."""
        last = {line.order_id: line for line in lines if line.status in order_news.NOTICE_STATUSES}
        changes = [
            (order_news.Notice(line.order_id, line.status, line.tracking_url, line.carrier, line.expected_at), line)
            for line in last.values()
        ]
        return [
            change
            for change, line in changes
            if order_news.is_news(change, line.status_changed_at, before.get(change.order), self.live, self.at)
        ]

    def _changed_at(self, line: OrderLineRow, prior: order_news.Stored | None) -> datetime | None:
        """When the order reached the status ``line`` leaves it with: the stored time if that status is stored
        already; else the shop's time; else, for a change Chatcast watched happen (the webhook's, or one an import
        finds in an order it knew), when it learned of it; else (an import's first sight: history) unknown."""
        if prior is not None and not order_news.moved(prior, line.status, line.expected_at or prior.expected_at):
            return prior.changed_at or line.status_changed_at
        if line.status_changed_at is not None:
            return line.status_changed_at
        watched = self.live or (prior is not None and not order_news.first_seen_by(prior, self.at))
        return self.at if watched else None


def _forward(line: OrderLineRow, prior: order_news.Stored | None) -> OrderLineRow:
    """``line`` with the status to store: a late, out-of-order status leaves the order where it got to."""
    status = order_news.kept(prior.status if prior else None, line.status)
    if status == line.status:
        return line
    return line.model_copy(update={"status": status})  # its return flag follows the kept status unless given


async def _recompute_totals(conn: BaseDBAsyncClient, order_ids: list[int]) -> None:
    """Set each order's total to the sum of its lines (only where it changed), in one statement."""
    if not order_ids:
        return
    postgres = str(conn.capabilities.dialect) == "postgres"
    wanted = "= ANY($1::bigint[])" if postgres else f"IN ({', '.join(str(int(i)) for i in order_ids)})"
    await conn.execute_query(
        'UPDATE "order" SET total = s.total FROM ('
        "SELECT order_id, ROUND(CAST(SUM(quantity * unit_price) AS NUMERIC), 4) AS total"
        f" FROM order_item WHERE order_id {wanted} GROUP BY order_id) AS s"
        f' WHERE "order".id = s.order_id AND "order".total {"IS DISTINCT FROM" if postgres else "IS NOT"} s.total',
        [order_ids] if postgres else None,
    )


class OnlineRetailRow(BaseModel):
    """A UCI Online Retail line, split into the customer, product and order line it describes."""

    customer: CustomerRow
    product: ProductRow
    line: OrderLineRow


class OnlineRetailKind(OrdersKind):
    """The UCI Online Retail layout: invoices (``C``-prefixed ones are cancellations) that bring their own
    customers (id, country) and products (stock code, description, last unit price, GBP)."""

    name = "orders (online-retail)"
    tables: tuple[str, ...] = ("customer", "product", "order", "order_item")
    SOURCE_COLUMN: ClassVar[dict[str, str]] = {
        "external_id": "CustomerID",
        "customer_id": "CustomerID",
        "country": "Country",
        "sku": "StockCode",
        "name": "Description",
        "price": "UnitPrice",
        "unit_price": "UnitPrice",
        "order_id": "InvoiceNo",
        "ordered_at": "InvoiceDate",
        "quantity": "Quantity",
    }
    COLUMNS = (
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    )

    key_name: str | None = None

    def key_of(self, value: Any) -> Hashable | None:
        return None  # an invoice may list a stock code twice: each row is a line of its own

    def check_columns(self, columns: Sequence[str]) -> str | None:
        missing = [c for c in self.COLUMNS if c not in columns]
        return f"missing required column {missing[0]!r} (online-retail layout)" if missing else None

    def parse(self, data: dict[str, Any], context: dict[str, Any]) -> OnlineRetailRow:
        d = clean(data)
        invoice = str(d.get("InvoiceNo", ""))
        cancelled = invoice.upper().startswith("C")
        sku = d.get("StockCode")
        raw = {
            "customer": {"external_id": d.get("CustomerID"), "country": d.get("Country")},
            "product": {
                "sku": sku,
                "name": d.get("Description") or sku,
                "price": d.get("UnitPrice"),
                "currency": "GBP",
            },
            "line": {
                "order_id": invoice,
                "customer_id": d.get("CustomerID"),
                "ordered_at": d.get("InvoiceDate"),
                "sku": sku,
                "quantity": d.get("Quantity"),
                "unit_price": d.get("UnitPrice"),
                "currency": "GBP",
                "status": "cancelled" if cancelled else "paid",
                "is_return": cancelled,
            },
        }
        try:
            return OnlineRetailRow.model_validate(raw, context=context)
        except ValidationError as exc:
            part = str(exc.errors()[0]["loc"][0])
            column, reason = describe(exc, raw.get(part, {}))
            raise RowProblem(self.SOURCE_COLUMN.get(column or "", column), reason) from None

    async def write(self, conn: BaseDBAsyncClient, batch: list[Parsed[Any]], columns: Sequence[str]) -> list[Refusal]:
        customers = {p.value.customer.external_id: p.value.customer for p in batch}
        await bulk.upsert(
            conn,
            "customer",
            [
                {
                    "external_id": c.external_id,
                    "name": "",
                    "language": "en",
                    "country": c.country,
                    "tags": "[]",
                    "attributes": "{}",
                    "created_at": datetime.now(UTC),
                }
                for c in customers.values()
            ],
            conflict=["external_id"],
            update=["country"],
        )
        products = {p.value.product.sku: p.value.product for p in batch}
        await bulk.upsert(
            conn,
            "product",
            [_product_dict(p) for p in products.values()],
            conflict=["sku"],
            update=["name", "price", "currency"],
        )
        return await super().write(conn, [Parsed(p.raw, p.value.line) for p in batch], columns)

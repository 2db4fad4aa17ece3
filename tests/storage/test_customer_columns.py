"""The customer's columns are one list: the import file's model, the export and the sample shop follow it."""

from __future__ import annotations

import csv
from pathlib import Path

from chatcast.channels import identity_columns
from storage.customer_columns import CUSTOMER_COLUMNS, KEPT_COLUMNS, UPDATABLE_COLUMNS
from storage.importers.rows import customer_row
from storage.models import Customer
from storage.privacy import export

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
ADDRESS_COLUMNS = tuple(column.column for column in identity_columns())  # one per channel, from the registry


def test_a_customers_file_has_the_customers_columns_and_the_chat_addresses() -> None:
    assert tuple(customer_row(identity_columns()).model_fields) == (*CUSTOMER_COLUMNS, *ADDRESS_COLUMNS)
    assert "external_id" not in UPDATABLE_COLUMNS and set(UPDATABLE_COLUMNS) < set(CUSTOMER_COLUMNS)


def test_the_customer_table_holds_every_column_an_import_writes_and_the_export_reads() -> None:
    stored = set(Customer._meta.fields_map)
    assert set(CUSTOMER_COLUMNS) | set(KEPT_COLUMNS) <= stored


def test_the_sample_shops_customers_file_uses_only_those_columns() -> None:
    with (SHOP / "customers.csv").open(encoding="utf-8") as f:
        header = next(csv.reader(f))
    known = {*CUSTOMER_COLUMNS, *ADDRESS_COLUMNS}
    assert [c for c in header if c not in known and not c.startswith("attr_")] == []


async def test_the_export_gives_the_customers_columns_then_what_chatcast_keeps(database: str) -> None:
    customer = await Customer.create(external_id="C1", name="Ada", language="en")
    data = await export(customer)
    assert tuple(data["customer"]) == (*CUSTOMER_COLUMNS, *KEPT_COLUMNS)

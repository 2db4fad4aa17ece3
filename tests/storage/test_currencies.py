"""Orders and products carry their currency wherever they come in: a file's column or the webhook's field (an ISO
4217 code, any case), else the shop's currency; a code that is no currency is a bad row naming the column, or the
webhook's 422 naming the field, never a silent USD."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chatcast.settings import Settings
from storage.currencies import CODES, UnknownCurrency, currency_code
from storage.importers import import_file
from storage.models import Customer, Order, Product
from storage.orders import OrderRejected, upsert_order


def test_codes_are_iso_4217_upper_case() -> None:
    assert currency_code(" eur ") == "EUR" and currency_code("HRK") == "HRK"  # a kuna order of 2022 is history
    for bad in ("EURO", "XYZ", "€", "", "XAU"):
        with pytest.raises(UnknownCurrency, match="is not an ISO 4217 currency code"):
            currency_code(bad)
    assert {"USD", "EUR", "GBP", "JPY", "CHF"} <= CODES


def test_the_shop_currency_setting_is_a_currency() -> None:
    assert Settings(_env_file=None).shop_currency == "USD"  # type: ignore[call-arg]
    assert Settings(_env_file=None, shop_currency="eur").shop_currency == "EUR"  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="'EURO' is not an ISO 4217 currency code"):
        Settings(_env_file=None, shop_currency="EURO")  # type: ignore[call-arg]


async def test_imported_orders_and_products_carry_their_currency_or_the_shops(database: str, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("sku,name,price,currency\nA,Alpha,10,chf\nB,Beta,5,\nC,Gamma,1,EURO\n")
    report = await import_file("products", tmp_path / "p.csv", currency="EUR")
    assert [str(e) for e in report.errors] == [
        "p.csv row 3 (line 4), column 'currency': 'EURO' is not an ISO 4217 currency code (such as EUR, USD, GBP, JPY)"
    ]
    assert dict(await Product.all().values_list("sku", "currency")) == {"A": "CHF", "B": "EUR"}
    await Customer.create(external_id="C1")
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,ordered_at,sku,quantity,unit_price,currency\n"
        "O1,C1,2027-01-01T10:00:00Z,A,1,10,jpy\n"
        "O2,C1,2027-01-02T10:00:00Z,A,1,10,\n"
        "O3,C1,2027-01-03T10:00:00Z,A,1,10,ABC\n"
        "O4,C1,2027-01-03T10:00:00Z,A,1,10,12\n"
    )
    report = await import_file("orders", tmp_path / "o.csv", currency="EUR")
    assert [(e.row, e.column) for e in report.errors] == [(3, "currency"), (4, "currency")]
    assert dict(await Order.all().values_list("external_id", "currency")) == {"O1": "JPY", "O2": "EUR"}
    await import_file("orders", tmp_path / "o.csv")  # no shop currency given: USD, as before
    assert (await Order.get(external_id="O2")).currency == "USD"


async def test_the_webhook_order_carries_its_currency_or_the_shops(database: str) -> None:
    await Customer.create(external_id="C1")
    await Product.create(sku="A", name="Alpha", price=10)
    body = {"order_id": "W1", "customer_id": "C1", "ordered_at": "2027-01-01T10:00:00Z",
            "lines": [{"sku": "A", "quantity": 1, "unit_price": 10}]}  # fmt: skip
    await upsert_order(body, currency="GBP")
    await upsert_order(body | {"order_id": "W2", "currency": "sek"}, currency="GBP")
    assert dict(await Order.all().values_list("external_id", "currency")) == {"W1": "GBP", "W2": "SEK"}
    for bad in ("EURO", 978, ["EUR"]):
        with pytest.raises(OrderRejected) as refused:
            await upsert_order(body | {"order_id": "W3", "currency": bad}, currency="GBP")
        assert refused.value.field == "currency" and "currency code" in refused.value.reason
    assert not await Order.filter(external_id="W3").exists()

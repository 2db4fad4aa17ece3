"""Order notices from the command line: an orders import queues them for status changes only, and ``chatcast
customer notices`` switches a customer's off and on."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.cli import invoke

ORDERS = "order_id,customer_id,ordered_at,sku,quantity,unit_price,status,tracking_url,expected_at\n"


def orders(isolated: Path, status: str, extra: str = ",") -> str:
    (isolated / "o.csv").write_text(ORDERS + f"A1,C1,2027-04-01,RUN-1,1,89.9,{status},{extra}\n")
    return "o.csv"


def test_imports_queue_notices_for_changes_and_the_switch_stops_them(isolated: Path) -> None:
    (isolated / "c.csv").write_text("external_id,name,telegram_chat_id\nC1,Ada,1001\n")
    (isolated / "p.csv").write_text("sku,name,price\nRUN-1,Runner,89.9\n")
    assert invoke("import", "customers", "c.csv")[0] == 0 and invoke("import", "products", "p.csv")[0] == 0
    code, output = invoke("import", "orders", orders(isolated, "paid"))
    assert code == 0 and "queued" not in output  # the first sight of an order is history
    code, output = invoke("import", "orders", orders(isolated, "shipped", "https://track.example/1,2027-04-05"))
    assert code == 0 and "1 order notice queued (chatcast serve sends them)" in output
    assert invoke("customer", "notices", "C1", "off") == (0, "Order notices for customer C1 are off.\n")
    code, output = invoke("customer", "notices", "C1", "off")
    assert code == 0 and "(they already were)" in output
    code, output = invoke("import", "orders", orders(isolated, "delivered"))
    assert code == 0 and "queued" not in output  # recorded, noted notices_off, not queued
    assert invoke("customer", "notices", "C1", "on") == (0, "Order notices for customer C1 are on.\n")
    code, output = invoke("customer", "notices", "C9", "off")
    assert code == 1 and output.strip().splitlines() == ["error: no customer 'C9'"]
    code, output = invoke("customer", "notices", "C1", "maybe")
    assert code == 2 and "say on or off" in output


def test_a_delayed_row_without_its_date_is_a_bad_row_naming_the_column(isolated: Path) -> None:
    (isolated / "c.csv").write_text("external_id,name\nC1,Ada\n")
    (isolated / "p.csv").write_text("sku,name,price\nRUN-1,Runner,89.9\n")
    assert invoke("import", "customers", "c.csv")[0] == 0 and invoke("import", "products", "p.csv")[0] == 0
    code, output = invoke("import", "orders", orders(isolated, "delayed"))
    assert code == 0 and "o.csv row 1 (line 2), column 'expected_at'" in output and "new expected date" in output

"""Attribution on both databases: the last touch within its own campaign's window, one credit per order whatever
brings it (webhook, import, both, again), and the credit following the order: voided by a cancellation, a full
refund or return, lowered by a partial one, never below 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise.exceptions import IntegrityError

from campaigns.results.attribution import attribute, crediting, window_of
from storage import privacy
from storage.credits import OrderState, credit_data
from storage.importers import import_file
from storage.models import Campaign, Customer, Delivery, Event, Product
from storage.orders import upsert_order
from tests.fakes.clock import Clock

SENT = datetime(2027, 4, 1, 10, tzinfo=UTC)
NOW = datetime(2027, 4, 20, 12, tzinfo=UTC)
HEADER = "order_id,line,customer_id,ordered_at,status,currency,sku,quantity,unit_price"


def campaign_yaml(key: str, days: int) -> str:
    """A registered campaign's YAML with its attribution window."""
    return (
        f'id: {key}\nname: {key}\nchannels: [telegram]\nmessage: {{brief: b, template: "t {{{{ unsubscribe }}}}"}}\n'
        f"attribution_days: {days}\n"
    )


async def shop(*sends: tuple[str, int, datetime], kind: str = "marketing") -> Customer:
    """Customer C1, products RUN-1 (90 EUR) and SOC-1, and per (campaign, window days, sent at) one sent message."""
    customer = await Customer.create(external_id="C1", name="Ann")
    await Product.create(sku="RUN-1", name="Runner", price=90, currency="EUR")
    await Product.create(sku="SOC-1", name="Sock", price=10, currency="EUR")
    for key, days, at in sends:
        campaign = await Campaign.create(key=key, name=key, yaml=campaign_yaml(key, days), yaml_hash="", kind=kind)
        await Delivery.create(campaign=campaign, step="main", customer=customer, channel="telegram", address="1",
                              status="sent", sent_at=at)  # fmt: skip
    return customer


def order(order_id: str, at: datetime, **changes: Any) -> dict[str, Any]:
    """A webhook's order of C1: one runner, paid, in EUR."""
    body: dict[str, Any] = {"order_id": order_id, "customer_id": "C1", "ordered_at": at.isoformat(),
                            "status": "paid", "currency": "EUR",
                            "lines": [{"sku": "RUN-1", "quantity": 1, "unit_price": 90}]}  # fmt: skip
    return {**body, **changes}


async def post(body: dict[str, Any]) -> dict[str, Any] | None:
    """What the orders webhook does: store, then attribute; the credit's data (None: no credit)."""
    credit = await attribute(await upsert_order(body), now=Clock(NOW))
    return None if credit is None else credit.data


async def converted() -> list[dict[str, Any]]:
    """Every converted event's data, by order."""
    events = await Event.filter(type="converted").order_by("id").values("data", "order_id")
    return sorted((e["data"] for e in events), key=lambda d: d["order"])


def csv_file(path: Path, *rows: str, header: str = HEADER) -> Path:
    """An orders file."""
    path.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8")
    return path


def test_credit_data_nets_refunds_and_returns_and_voids_what_is_taken_back_in_full() -> None:
    paid = OrderState("A1", 100.0, "EUR", "paid")
    assert credit_data(paid, "main", None, NOW) == {
        "order": "A1", "total": 100.0, "gross": 100.0, "currency": "EUR", "step": "main",
    }  # fmt: skip
    assert credit_data(OrderState("A1", 100.0, "EUR", "delivered", refunded=30.0), "main", None, NOW)["total"] == 70.0
    part = credit_data(OrderState("A1", 100.0, "EUR", "delivered", refunded=30.0, returned=25.5), "main", None, NOW)
    assert (part["total"], part["gross"], "void" in part) == (44.5, 100.0, False)
    cancelled_at = SENT + timedelta(days=3)
    void = credit_data(OrderState("A1", 100.0, "EUR", "cancelled", changed_at=cancelled_at), "main", None, NOW)
    assert void == {"order": "A1", "total": 0.0, "gross": 100.0, "currency": "EUR", "step": "main",
                    "void": "cancelled", "voided_at": cancelled_at.isoformat()}  # fmt: skip
    assert credit_data(OrderState("A1", 100.0, "EUR", "refunded"), "main", None, NOW)["voided_at"] == NOW.isoformat()
    returned_at = SENT + timedelta(days=9)
    taken_back = OrderState("A1", 100.0, "EUR", "delivered", returned=120.0, returned_at=returned_at)
    back = credit_data(taken_back, "main", None, NOW)
    assert (back["total"], back["void"], back["voided_at"]) == (0.0, "returned", returned_at.isoformat())
    over = credit_data(OrderState("A1", 100.0, "EUR", "delivered", refunded=150.0), "main", None, NOW)
    assert (over["total"], over["void"]) == (0.0, "refunded")  # never below 0
    again = credit_data(OrderState("A1", 100.0, "EUR", "refunded"), "main", void | {"void": "refunded"}, NOW)
    assert again["voided_at"] == cancelled_at.isoformat()  # a void keeps its moment once recorded


def test_the_window_is_read_off_the_campaign_and_defaults_to_seven_days() -> None:
    assert window_of(campaign_yaml("spring", 3)) == timedelta(days=3)
    assert window_of("not: [a campaign") == timedelta(days=7)


async def test_the_last_touch_within_its_own_window_is_credited_once(database: str) -> None:
    # "flash" (3 days) touched last but 5 days before; "long" (30 days) 10 days before: the credit is long's
    await shop(("long", 30, SENT), ("flash", 3, SENT + timedelta(days=5)))
    at = SENT + timedelta(days=10)
    data = await post(order("A1", at))
    assert data == {"order": "A1", "total": 90.0, "gross": 90.0, "currency": "EUR", "step": "main"}
    assert await post(order("A1", at)) == data  # the webhook sent again
    [event] = await Event.filter(type="converted").prefetch_related("campaign", "order")
    assert event.campaign is not None and event.campaign.key == "long" and event.at == at
    assert event.order is not None and event.order.external_id == "A1"
    assert await post(order("A2", SENT + timedelta(days=31))) is None  # past every window
    assert await post(order("A0", SENT - timedelta(minutes=1))) is None  # before any message
    with pytest.raises(IntegrityError):  # the database itself keeps one credit per order
        await Event.create(type="converted", order_id=event.order_id, at=at, data={})  # type: ignore[attr-defined]


async def test_an_order_notice_is_no_touch(database: str) -> None:
    await shop(("order-notices", 7, SENT), kind="notices")
    assert await post(order("A1", SENT + timedelta(days=1))) is None


async def test_imported_orders_are_credited_like_the_webhooks_and_a_repeated_import_changes_nothing(
    database: str, tmp_path: Path
) -> None:
    await shop(("spring", 7, SENT))
    rows = (
        f"H1,1,C1,{(SENT - timedelta(days=40)).isoformat()},delivered,EUR,RUN-1,1,90",  # history: before the send
        f"A1,1,C1,{(SENT + timedelta(days=1)).isoformat()},paid,EUR,RUN-1,1,90",
        f"A1,2,C1,{(SENT + timedelta(days=1)).isoformat()},paid,EUR,SOC-1,2,10",
        f"A2,1,C1,{(SENT + timedelta(days=2)).isoformat()},paid,GBP,SOC-1,1,8.5",
        f"A3,1,C1,{(SENT + timedelta(days=9)).isoformat()},paid,EUR,SOC-1,1,10",  # after the 7 days
    )
    path = csv_file(tmp_path / "orders.csv", *rows)
    credits = crediting(Clock(NOW))
    report = await import_file("orders", path, batch_size=2, credits=credits)  # A1's lines in two batches
    assert (report.imported, report.bad, credits.credited, credits.changed) == (5, 0, 2, 1)  # A1's total grew
    first = await converted()
    assert [(d["order"], d["total"], d["currency"]) for d in first] == [("A1", 110.0, "EUR"), ("A2", 8.5, "GBP")]
    again = crediting(Clock(NOW + timedelta(days=1)))
    await import_file("orders", path, credits=again)
    assert (again.credited, again.voided, again.changed) == (0, 0, 0) and await converted() == first
    assert await post(order("A2", SENT + timedelta(days=2), currency="GBP",
                            lines=[{"sku": "SOC-1", "quantity": 1, "unit_price": 8.5}])) == first[1]  # fmt: skip
    assert await Event.filter(type="converted").count() == 2


async def test_orders_stored_before_are_credited_when_imported_again(database: str, tmp_path: Path) -> None:
    await shop(("spring", 7, SENT))
    path = csv_file(tmp_path / "orders.csv", f"A1,1,C1,{(SENT + timedelta(days=1)).isoformat()},paid,EUR,RUN-1,1,90")
    await import_file("orders", path)  # stored without crediting (as before imports credited)
    assert await converted() == []
    credits = crediting(Clock(NOW))
    await import_file("orders", path, credits=credits)
    assert credits.credited == 1 and [d["order"] for d in await converted()] == ["A1"]


async def test_a_cancellation_or_full_refund_voids_the_credit_and_the_event_stays(database: str) -> None:
    await shop(("spring", 7, SENT))
    at = SENT + timedelta(days=1)
    assert (await post(order("A1", at)) or {}).get("void") is None
    cancelled_at = at + timedelta(hours=5)
    data = await post(order("A1", at, status="cancelled", status_changed_at=cancelled_at.isoformat()))
    assert data == {"order": "A1", "total": 0.0, "gross": 90.0, "currency": "EUR", "step": "main",
                    "void": "cancelled", "voided_at": cancelled_at.isoformat()}  # fmt: skip
    assert await post(order("A1", at, status="paid")) == data  # a late "paid" moves nothing back
    await post(order("A2", at))
    refunded = await post(order("A2", at, status="refunded"))  # no time given: when Chatcast learnt of it
    assert refunded is not None and (refunded["total"], refunded["void"]) == (0.0, "refunded")
    assert await Event.filter(type="converted").count() == 2


async def test_partial_refunds_and_returns_lower_the_credit_and_a_full_return_voids_it(database: str) -> None:
    await shop(("spring", 7, SENT))
    at = SENT + timedelta(days=1)
    two = [{"sku": "RUN-1", "quantity": 1, "unit_price": 90}, {"sku": "SOC-1", "quantity": 1, "unit_price": 10}]
    assert (await post(order("A1", at, lines=two)) or {})["total"] == 100.0
    assert (await post(order("A1", at, lines=two, status="delivered", refunded=15)) or {})["total"] == 85.0
    # the socks come back: a return of its own, naming the order (its lines negative)
    back = order("R1", at + timedelta(days=4), status="returned", return_of="A1",
                 lines=[{"sku": "SOC-1", "quantity": -1, "unit_price": 10}])  # fmt: skip
    assert await post(back) is None  # a return is credited to nobody
    [data] = await converted()
    assert (data["total"], data["gross"], "void" in data) == (75.0, 100.0, False)
    runner_back = order("R2", at + timedelta(days=6), status="returned", return_of="A1",
                        lines=[{"sku": "RUN-1", "quantity": -1, "unit_price": 90}])  # fmt: skip
    await post(runner_back)
    [data] = await converted()
    assert (data["total"], data["void"], data["voided_at"]) == (0.0, "returned", (at + timedelta(days=6)).isoformat())


async def test_an_import_voids_cancelled_and_returned_credits_and_credits_an_order_cancelled_already(
    database: str, tmp_path: Path
) -> None:
    await shop(("spring", 7, SENT))
    at = (SENT + timedelta(days=1)).isoformat()
    await post(order("A1", SENT + timedelta(days=1)))
    await post(order("A2", SENT + timedelta(days=1)))
    header = f"{HEADER},return_of,status_changed_at"
    later = (SENT + timedelta(days=3)).isoformat()
    path = csv_file(
        tmp_path / "orders.csv",
        f"A1,1,C1,{at},cancelled,EUR,RUN-1,1,90,,{later}",  # A1 re-imported cancelled
        f"R2,1,C1,{later},returned,EUR,RUN-1,-1,90,A2,",  # A2 returned
        f"A3,1,C1,{at},cancelled,EUR,RUN-1,1,90,,{later}",  # A3 first seen cancelled: its credit is void at once
        header=header,
    )
    credits = crediting(Clock(NOW))
    await import_file("orders", path, credits=credits)
    assert (credits.credited, credits.voided, credits.changed) == (0, 3, 0)  # A3's credit is void from the start
    voids = {d["order"]: (d["total"], d["void"], d["voided_at"]) for d in await converted()}
    assert voids == {"A1": (0.0, "cancelled", later), "A2": (0.0, "returned", later), "A3": (0.0, "cancelled", later)}
    before = await converted()
    again = crediting(Clock(NOW + timedelta(days=2)))
    await import_file("orders", path, credits=again)
    assert (again.credited, again.voided, again.changed) == (0, 0, 0) and await converted() == before


async def test_online_retail_cancellations_are_no_purchase(database: str, tmp_path: Path) -> None:
    customer = await Customer.create(external_id="17850", name="")
    campaign = await Campaign.create(key="uk", name="uk", yaml=campaign_yaml("uk", 7), yaml_hash="")
    await Delivery.create(campaign=campaign, step="main", customer=customer, channel="telegram", status="sent",
                          sent_at=datetime(2010, 12, 1, 8, tzinfo=UTC))  # fmt: skip
    path = csv_file(
        tmp_path / "retail.csv",
        "536365,85123A,WHITE HANGING HEART,6,2010-12-01 08:26,2.55,17850,United Kingdom",
        "C536379,85123A,WHITE HANGING HEART,-1,2010-12-01 09:41,2.55,17850,United Kingdom",
        header="InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
    )
    credits = crediting(Clock(NOW))
    await import_file("online-retail", path, fmt="csv", credits=credits)
    assert credits.credited == 1
    assert [(d["order"], d["total"], d["currency"]) for d in await converted()] == [("536365", 15.3, "GBP")]


async def test_an_erased_customers_credit_keeps_its_money_and_not_the_shops_order_id(database: str) -> None:
    customer = await shop(("spring", 7, SENT))
    await post(order("SHOP-ORDER-8801", SENT + timedelta(days=1)))
    await Event.create(type="clicked", customer=customer, at=SENT, data={"link": "https://shop.example/vera"})
    await privacy.erase(customer)
    [event] = await Event.filter(type="converted").values("data", "order_id")
    assert event["data"] == {"order": f"erased-{event['order_id']}", "total": 90.0, "gross": 90.0, "currency": "EUR",
                             "step": "main"}  # fmt: skip
    assert await Event.filter(type="clicked").values_list("data", flat=True) == [{}]

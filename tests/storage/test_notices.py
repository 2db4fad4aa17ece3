"""Order notices in storage, on both databases: which status changes the webhook and imports record, once each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from campaigns.notices.queue import queue_notices
from campaigns.notices.text import render
from storage import privacy
from storage.importers import import_file
from storage.models import ChannelIdentity, Customer, Delivery, Order, OrderNotice, Product
from storage.order_news import Notice
from storage.orders import OrderRejected, upsert_order

AT = datetime(2027, 4, 1, 9, tzinfo=UTC)
LINK = "https://track.example/p/1Z999"


@pytest.fixture
async def shop(database: str) -> None:
    await Customer.create(external_id="C1", name="Ann")
    await Product.create(sku="RUN-1", name="Runner", price=89.9)


def hook(status: str, order_id: str = "A1", **extra: Any) -> dict[str, Any]:
    line = {"sku": "RUN-1", "quantity": 1, "unit_price": 89.9}
    return {"order_id": order_id, "customer_id": "C1", "ordered_at": AT.isoformat(), "status": status,
            "lines": [line], **extra}  # fmt: skip


async def recorded() -> list[tuple[str, str]]:
    return sorted(await OrderNotice.all().values_list("order__external_id", "key"))


async def test_the_webhook_records_each_change_once_and_keeps_tracking(shop: None) -> None:
    await upsert_order(hook("paid"))  # an order first seen by the webhook is news
    await upsert_order(hook("shipped", tracking_url=LINK, carrier="UPS", expected_at="2027-04-05T12:00:00Z"))
    await upsert_order(hook("shipped", tracking_url=LINK))  # the shop retried
    await upsert_order(hook("delayed", expected_at="2027-04-08T12:00:00Z"))
    await upsert_order(hook("delayed", expected_at="2027-04-08T12:00:00Z"))
    await upsert_order(hook("delayed", expected_at="2027-04-09T12:00:00Z"))  # a second delay: news again
    await upsert_order(hook("paid"))  # late and out of order: stored, not told
    await upsert_order(hook("delivered"))
    await upsert_order(hook("placed", order_id="A2"))  # not a status customers are told about
    assert await recorded() == [
        ("A1", "delayed:2027-04-08T12:00"),
        ("A1", "delayed:2027-04-09T12:00"),
        ("A1", "delivered"),
        ("A1", "paid"),
        ("A1", "shipped"),
    ]
    order = await Order.get(external_id="A1")
    assert order.tracking_url == LINK and order.carrier == "UPS"  # kept by the calls that left them out
    assert order.expected_at == datetime(2027, 4, 9, 12, tzinfo=UTC) and order.status == "delivered"
    shipped = await OrderNotice.get(key="shipped")
    assert shipped.tracking_url == LINK and shipped.expected_at == datetime(2027, 4, 5, 12, tzinfo=UTC)


async def test_the_same_change_twice_at_once_is_recorded_once(shop: None) -> None:
    await upsert_order(hook("paid"))
    shipped = hook("shipped", tracking_url=LINK)
    await asyncio.gather(*(upsert_order(shipped) for _ in range(4)))
    assert await recorded() == [("A1", "paid"), ("A1", "shipped")]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"status": "delayed"}, "expected_at", "new expected date"),
        ({"tracking_url": "track.example/1"}, "tracking_url", "not an http(s) link"),
        ({"expected_at": "next week"}, "expected_at", "datetime"),
        ({"carrier": "x" * 65}, "carrier", "at most 64"),
        ({"carrier": "DHL - 20% off: SAVE20"}, "carrier", "not a carrier's name"),
        ({"carrier": "see https://promo.example"}, "carrier", "no links"),
        ({"carrier": "promo.example"}, "carrier", "not a carrier's name"),
    ],
)
async def test_bad_notice_fields_are_refused_by_name(
    shop: None, change: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(OrderRejected) as refused:
        await upsert_order(hook("shipped") | change)
    assert refused.value.field == field and words in refused.value.reason
    assert await Order.all().count() == 0 and await OrderNotice.all().count() == 0


HEADER = "order_id,customer_id,ordered_at,sku,quantity,unit_price,status,tracking_url,expected_at\n"


async def test_an_import_tells_changes_of_known_orders_but_never_their_history(shop: None, tmp_path: Path) -> None:
    first = tmp_path / "orders.csv"
    first.write_text(HEADER + "B1,C1,2027-03-01,RUN-1,1,89.9,delivered,,\nB2,C1,2027-03-20,RUN-1,1,89.9,paid,,\n")
    assert (await import_file("orders", first)).bad == 0
    assert await recorded() == []  # a shop's past orders: nobody is told anything
    assert (await import_file("orders", first)).bad == 0
    assert await recorded() == []  # the same file again: nothing changed
    later = tmp_path / "later.csv"
    later.write_text(
        HEADER + f"B1,C1,2027-03-01,RUN-1,1,89.9,delivered,,\nB2,C1,2027-03-20,RUN-1,1,89.9,shipped,{LINK},2027-04-02\n"
    )
    assert (await import_file("orders", later)).bad == 0
    assert await recorded() == [("B2", "shipped")]
    assert (await Order.get(external_id="B2")).tracking_url == LINK


async def test_an_import_names_the_row_and_column_of_a_bad_notice_field(shop: None, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER.replace("\n", ",carrier\n")
        + "B1,C1,2027-03-01,RUN-1,1,89.9,delayed,,,DHL\nB2,C1,2027-03-01,RUN-1,1,89.9,shipped,ftp://x,,UPS\n"
        + "B3,C1,2027-03-01,RUN-1,1,89.9,shipped,,,Call 555-0100 for 10% off\n"
        + "B4,C1,2027-03-01,RUN-1,1,89.9,shipped,,,U.S. Postal Service & Co\n"
    )
    report = await import_file("orders", path)
    assert [(e.row, e.column) for e in report.errors] == [(1, "expected_at"), (2, "tracking_url"), (3, "carrier")]
    assert report.bad == 3 and (await Order.get(external_id="B4")).carrier == "U.S. Postal Service & Co"
    assert "needs its new expected date" in str(report.errors[0]) and "orders.csv row 1 (line 2)" in str(
        report.errors[0]
    )


async def test_export_shows_tracking_and_the_switch_and_erase_drops_the_links(shop: None) -> None:
    await upsert_order(hook("shipped", tracking_url=LINK, carrier="UPS"))
    ann = await Customer.get(external_id="C1")
    await ChannelIdentity.create(customer=ann, channel="telegram", address="42", reachable=True, linked_at=AT)
    assert await queue_notices(now=AT) == 1
    assert LINK in str((await Delivery.get()).buttons)
    data = await privacy.export(ann)
    assert data["orders"][0]["tracking_url"] == LINK and data["customer"]["notices_off_at"] is None
    changed = await privacy.erase(ann)
    assert changed["orders"] == 1 and changed["order_notices"] == 1  # the order anonymised, its notice gone
    assert await Order.filter(tracking_url__not_isnull=True).count() == 0
    assert await OrderNotice.all().count() == 0
    assert (await Delivery.get()).buttons == []  # the notice's tracking button went with its link
    assert (await Customer.get(id=ann.id)).notices_off_at is not None  # nothing is sent to an erased customer


async def test_a_date_without_a_time_is_the_shops_day(shop: None) -> None:
    await upsert_order(hook("shipped", expected_at="2027-04-12"), tz=ZoneInfo("America/New_York"))
    expected = (await Order.get(external_id="A1")).expected_at
    assert expected == datetime(2027, 4, 12, 4, tzinfo=UTC)  # midnight in New York
    text, _ = render(Notice("A1", "shipped", expected_at=expected), "en", ZoneInfo("America/New_York"))
    assert "12 April 2027" in text


async def test_a_late_status_never_moves_the_order_back_on_the_webhook(shop: None) -> None:
    await upsert_order(hook("shipped", tracking_url=LINK))
    await upsert_order(hook("delivered"))
    await upsert_order(hook("shipped", tracking_url=LINK))  # late: neither told nor stored
    assert (await Order.get(external_id="A1")).status == "delivered"
    await upsert_order(hook("refunded"))  # terminal: always wins
    await upsert_order(hook("delivered"))
    order = await Order.get(external_id="A1")
    assert order.status == "refunded" and order.is_return
    assert await recorded() == [("A1", "delivered"), ("A1", "refunded"), ("A1", "shipped")]


async def test_shipped_and_delayed_are_one_stage(shop: None) -> None:
    await upsert_order(hook("shipped"))
    await upsert_order(hook("delayed", expected_at="2027-04-08T12:00:00Z"))  # a shipped parcel delayed: news
    await upsert_order(hook("shipped"))  # moving again: stored, and not news (shipped was told)
    assert (await Order.get(external_id="A1")).status == "shipped"
    assert await recorded() == [("A1", "delayed:2027-04-08T12:00"), ("A1", "shipped")]
    await upsert_order(hook("paid", order_id="A2"))
    await upsert_order(hook("delayed", order_id="A2", expected_at="2027-04-08T12:00:00Z"))  # held in the warehouse
    await upsert_order(hook("shipped", order_id="A2"))  # then shipped: news
    assert [k for o, k in await recorded() if o == "A2"] == ["delayed:2027-04-08T12:00", "paid", "shipped"]


async def test_a_late_status_never_moves_the_order_back_in_an_import(shop: None, tmp_path: Path) -> None:
    await upsert_order(hook("delivered", order_id="B1"))
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + f"B1,C1,2027-03-01,RUN-1,1,89.9,shipped,{LINK},\n")
    assert (await import_file("orders", path)).bad == 0
    order = await Order.get(external_id="B1")
    assert order.status == "delivered" and order.tracking_url == LINK  # the link still lands
    assert await recorded() == [("B1", "delivered")]


async def test_what_one_import_first_shows_is_history_even_across_its_batches(shop: None, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"  # an export with a row per status change of the order
    path.write_text(HEADER + "B1,C1,2027-03-01,RUN-1,1,89.9,paid,,\nB1,C1,2027-03-01,RUN-1,1,89.9,shipped,,\n")
    report = await import_file("orders", path, batch_size=1)  # the shipped row lands in the second batch
    assert report.bad == 0 and await recorded() == []
    order = await Order.get(external_id="B1")
    assert order.status == "shipped" and order.seen_at is not None and order.status_changed_at is None  # history
    await import_file("orders", path, batch_size=1)  # again: still nothing to tell
    assert await recorded() == []


async def test_a_change_the_shop_dates_long_ago_is_history_however_it_arrives(shop: None, tmp_path: Path) -> None:
    with time_machine.travel(AT, tick=False):
        await upsert_order(hook("paid"))
        await upsert_order(hook("shipped", status_changed_at="2027-03-28T09:00:00Z"))  # three days and an hour ago
        assert await recorded() == [("A1", "paid")]
        order = await Order.get(external_id="A1")
        assert order.status == "shipped" and order.status_changed_at == datetime(2027, 3, 28, 9, tzinfo=UTC)
        await upsert_order(hook("delivered", status_changed_at="2027-03-29T10:00:00Z"))  # within three days: news
        await upsert_order(hook("paid", order_id="A2", status_changed_at="2027-03-01T10:00:00Z"))  # new but old
        assert await recorded() == [("A1", "delivered"), ("A1", "paid")]
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER.replace("\n", ",status_changed_at\n")
        + "A1,C1,2027-04-01,RUN-1,1,89.9,refunded,,,2027-03-20T10:00:00Z\n"  # the file dates it long ago
        + "A2,C1,2027-04-01,RUN-1,1,89.9,shipped,,,\n"  # no date: found since Chatcast knew the order
    )
    with time_machine.travel(AT + timedelta(minutes=1), tick=False):
        assert (await import_file("orders", path)).bad == 0
    assert await recorded() == [("A1", "delivered"), ("A1", "paid"), ("A2", "shipped")]
    refunded, shipped = await Order.get(external_id="A1"), await Order.get(external_id="A2")
    assert refunded.status == "refunded" and refunded.status_changed_at == datetime(2027, 3, 20, 10, tzinfo=UTC)
    assert shipped.seen_at == AT and shipped.status_changed_at == AT + timedelta(minutes=1)  # when Chatcast learned


async def test_when_the_status_changed_is_kept_until_it_changes_again(shop: None, tmp_path: Path) -> None:
    with time_machine.travel(AT, tick=False):
        await upsert_order(hook("paid"))  # the webhook's own time: its arrival
    with time_machine.travel(AT + timedelta(hours=5), tick=False):
        await upsert_order(hook("paid"))  # the shop retried
        path = tmp_path / "orders.csv"
        path.write_text(HEADER + "A1,C1,2027-04-01,RUN-1,1,89.9,paid,,\n")
        await import_file("orders", path)  # an export that still says paid
    order = await Order.get(external_id="A1")
    assert (order.seen_at, order.status_changed_at) == (AT, AT)

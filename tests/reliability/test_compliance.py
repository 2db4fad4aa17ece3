"""Compliance: after an opt-out no message of any campaign reaches the customer; a customer's data is exported
whole on request, or erased everywhere (deliveries and chat included), with the counts kept anonymously."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from bots.inbound.acts import Inbound
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.ports import ChannelLimits, InboundEvent, OutboundMessage, SendReceipt
from chatcast.cli import app
from storage import db, privacy
from storage.models import (
    Campaign,
    ChannelIdentity,
    ChatMessage,
    Complaint,
    Conversation,
    Customer,
    Delivery,
    Event,
    Feedback,
    Order,
    OrderItem,
    OrderNotice,
    Product,
)
from storage.sql import fetch

NOW = datetime.now(UTC)
RATES = {"telegram": 1000.0, "telegram/chat": 1000.0}
TABLES = ("customer", "channel_identity", "delivery", "event", "chat_message", "conversation", "feedback", "complaint")
SECRETS = ("Vera Secret", "vera@example.com", "+41 79 555 0101", "7 Hidden Lane", "my allergy is peanuts", "8801")


class Phone:
    name = "telegram"
    limits = ChannelLimits(4096, None, None, 0, 0)

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendReceipt:
        self.sent.append(message)
        return SendReceipt((str(len(self.sent)),), NOW, message.address)


async def _customer(key: str, chat: str, **fields: object) -> Customer:
    customer = await Customer.create(external_id=key, opted_in_at=NOW - timedelta(days=9), **fields)
    await ChannelIdentity.create(customer=customer, channel="telegram", address=chat)
    return customer


async def _queue(campaign: Campaign, customer: Customer, chat: str, step: str = "main") -> Delivery:
    return await Delivery.create(
        campaign=campaign,
        customer=customer,
        step=step,
        channel="telegram",
        address=chat,
        status="queued",
        due_at=NOW - timedelta(minutes=1),
        text=f"{campaign.key} news",
    )


async def test_after_an_opt_out_no_campaign_reaches_the_customer(database: str) -> None:
    vera, omar = await _customer("V", "8801"), await _customer("O", "8802")
    spring = await Campaign.create(key="spring", name="Spring", yaml="", yaml_hash="h", status="running")
    autumn = await Campaign.create(key="autumn", name="Autumn", yaml="", yaml_hash="h", status="running")
    for campaign in (spring, autumn):
        for customer, chat in ((vera, "8801"), (omar, "8802")):
            await _queue(campaign, customer, chat)
    await _queue(spring, vera, "8801", step="reminder")
    await Inbound(None).handle(InboundEvent("telegram", "8801", "text", text="STOP"))
    phone = Phone()
    await Dispatcher({"telegram": phone}, worker="c", rates=RATES).drain()
    assert sorted(m.address for m in phone.sent) == ["8802", "8802"]  # Omar twice; Vera never
    skipped = await Delivery.filter(customer=vera).values_list("status", "note")
    assert skipped == [("skipped", "opted_out")] * 3


async def test_export_holds_everything_and_erase_leaves_nothing_that_identifies(database: str) -> None:
    vera = await _customer(
        "V-1",
        "8801",
        name="Vera Secret",
        email="vera@example.com",
        phone="+41 79 555 0101",
        attributes={"address": "7 Hidden Lane"},
    )
    campaign = await Campaign.create(key="spring", name="Spring", yaml="", yaml_hash="h", status="running")
    delivery = await Delivery.create(
        campaign=campaign,
        customer=vera,
        step="main",
        channel="telegram",
        address="8801",
        status="sent",
        sent_at=NOW,
        text="Hi Vera Secret!",
    )
    await Event.create(
        type="clicked",
        customer=vera,
        campaign=campaign,
        delivery=delivery,
        at=NOW,
        data={"channel": "telegram", "note": "Vera Secret"},
    )
    await ChatMessage.create(customer=vera, channel="telegram", role="customer", text="my allergy is peanuts", at=NOW)
    await Conversation.create(customer=vera, channel="telegram", address="8801", summary="Vera Secret asked")
    await Feedback.create(customer=vera, text="Vera Secret loves them", sentiment=0.8, themes=[], at=NOW)
    await Complaint.create(customer=vera, opened_at=NOW, source="message", text="Vera Secret: 7 Hidden Lane flooded")
    await Order.create(external_id="ORD-9", customer=vera, ordered_at=NOW, total=42)
    data = await privacy.export(vera)
    assert data["customer"]["email"] == "vera@example.com" and data["orders"][0]["external_id"] == "ORD-9"
    assert data["chat_messages"][0]["text"] == "my allergy is peanuts" and data["messages_sent"][0]["text"]
    assert data["chat_identities"][0]["address"] == "8801" and data["feedback"][0]["sentiment"] == 0.8
    assert data["complaints"][0]["text"] == "Vera Secret: 7 Hidden Lane flooded"
    counts = (await Delivery.all().count(), await Event.all().count(), await Order.all().count())
    changed = await privacy.erase(vera)
    assert changed["chat_identities"] == 1 and changed["chat_messages"] == 1 and changed["deliveries"] == 1
    for table in TABLES:
        dump = json.dumps([list(r) for r in await fetch(f'SELECT * FROM "{table}"')], default=str)
        for secret in SECRETS:
            assert secret not in dump, f"{secret!r} is still in {table}"
    assert (await Delivery.all().count(), await Event.all().count(), await Order.all().count()) == counts
    erased = await Customer.get(id=vera.id)
    assert erased.external_id == f"erased-{vera.id}" and erased.opted_out_at is not None
    assert await privacy.find("V-1") is None


async def test_erase_keeps_orders_only_as_anonymous_sales(database: str) -> None:
    """The policy (storage/privacy.py, docs/guarantees.md): the shop keeps its order records in its own books;
    Chatcast's copy of an erased customer's orders stays only as anonymous sales for the counts (issue #26: order
    ids, dates and language stayed on the anonymised row)."""
    vera = await _customer("V-2", "8803", name="Vera Secret", language="pt-BR", timezone="Europe/Lisbon")
    omar = await _customer("O-2", "8804", name="Omar Other")
    shoe = await Product.create(sku="RUN-1", name="Runner", price=90, currency="EUR")
    placed = datetime(2027, 3, 14, 15, 9, 26, tzinfo=UTC)
    order = await Order.create(
        external_id="SHOP-ORDER-8801", customer=vera, ordered_at=placed, total=180, currency="EUR", status="shipped",
        discount_code="VERA-ONLY-15", tracking_url="https://track.example/8801", carrier="DHL",
        expected_at=placed + timedelta(days=2), seen_at=placed, status_changed_at=placed, feedback_asked_at=placed,
    )  # fmt: skip
    await OrderItem.create(order=order, line=1, product=shoe, quantity=2, unit_price=90)
    await OrderNotice.create(order=order, key="shipped", status="shipped", at=placed, tracking_url="https://t.example")
    await Feedback.create(customer=vera, order=order, text="Vera Secret loves them", sentiment=0.8, themes=[], at=NOW)
    others = await Order.create(external_id="SHOP-ORDER-9", customer=omar, ordered_at=placed, total=90)
    changed = await privacy.erase(vera)
    assert changed["orders"] == 1 and changed["order_notices"] == 1
    [sale] = await Order.filter(id=order.id).values()
    assert sale["customer_id"] is None and sale["external_id"] == f"erased-{order.id}"  # detached, no shop id
    assert sale["ordered_at"].astimezone(UTC) == datetime(2027, 3, 14, tzinfo=UTC)  # the day, not the moment
    for field in ("discount_code", "tracking_url", "carrier", "expected_at", "seen_at", "status_changed_at",
                  "feedback_asked_at"):  # fmt: skip
        assert sale[field] is None, field
    assert (sale["total"], sale["currency"], sale["status"]) == (180, "EUR", "shipped")  # the counts stay
    assert await OrderItem.filter(order_id=order.id).values_list("product_id", "quantity", "unit_price") == [
        (shoe.id, 2, 90)
    ]
    assert not await OrderNotice.filter(order_id=order.id).exists()
    assert await Feedback.filter(customer_id=vera.id).values_list("order_id", "text") == [(None, "")]
    erased = await Customer.get(id=vera.id)
    assert (erased.language, erased.timezone, erased.name) == ("en", None, "")
    assert not await Order.filter(customer_id=vera.id).exists() and (await privacy.export(erased))["orders"] == []
    assert await Order.get(id=others.id).values_list("external_id", "customer_id") == ("SHOP-ORDER-9", omar.id)
    dump = json.dumps([list(r) for r in await fetch('SELECT * FROM "order"')], default=str)
    assert "SHOP-ORDER-8801" not in dump and "VERA-ONLY-15" not in dump and "track.example" not in dump


def test_the_cli_exports_and_erases(isolated: Path) -> None:
    import asyncio

    async def seed(url: str) -> None:
        async with db.database(url):
            await _customer("C-77", "8877", name="Vera Secret", email="vera@example.com")

    (isolated / "data").mkdir()
    asyncio.run(seed(f"sqlite://{isolated / 'data' / 'chatcast.sqlite3'}"))
    runner = CliRunner()
    exported = runner.invoke(app, ["customer", "export", "C-77", "--out", str(isolated / "vera.json")])
    assert exported.exit_code == 0, exported.output
    assert json.loads((isolated / "vera.json").read_text())["customer"]["name"] == "Vera Secret"
    missing = runner.invoke(app, ["customer", "export", "NOPE"])
    assert missing.exit_code == 1 and "no customer 'NOPE'" in missing.output and "Traceback" not in missing.output
    refused = runner.invoke(app, ["customer", "erase", "C-77"], input="n\n")
    assert refused.exit_code == 1
    erased = runner.invoke(app, ["customer", "erase", "C-77", "--yes"])
    assert erased.exit_code == 0 and "Erased customer C-77" in erased.output
    again = runner.invoke(app, ["customer", "export", "C-77"])
    assert again.exit_code == 1

"""Order notices in the engine: their words per language, their queue, and how the dispatcher treats them beside
marketing (no caps either way, no marketing consent needed, their own switch, never an offer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bots.inbound.acts import Inbound
from campaigns.audience.caps import Caps
from campaigns.audience.suppression import OPEN_COMPLAINT, Suppression, Unhappy
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.file.definition import FrequencyCap
from campaigns.jobs import housekeeping
from campaigns.notices.queue import queue_notices
from campaigns.notices.text import TEXTS, render, switch
from campaigns.ports import (
    Button,
    InboundEvent,
    OutboundMessage,
    PermanentChannelError,
    RecipientUnreachable,
    SendReceipt,
)
from campaigns.results.attribution import attribute
from storage import complaints, notices, outbox
from storage.models import Campaign, ChannelIdentity, Customer, Delivery, Event, OrderNotice, Product
from storage.order_news import Notice
from storage.orders import upsert_order
from storage.reports import campaign_lines
from tests.fakes.channels import RecordingChannel
from tests.fakes.clock import Clock
from tests.fakes.dispatch_worker import NO_LIMITS, add_campaign, add_customers, add_deliveries

UTC_ZONE, LINK = ZoneInfo("UTC"), "https://track.example/p/1Z999"
T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
SHIPPED = Notice("A-17", "shipped", LINK, "DHL", datetime(2027, 4, 12, 23, 30, tzinfo=UTC))
PROMOTION = ("SPRING20", "%", "off", "sale", "offer", "discount", "rabatt", "réduction", "descuento", "€", "$")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Your order A-17 is on its way with DHL.", "Expected delivery: 12 April 2027.", "STOP NOTICES"]),
        ("de-AT", ["Ihre Bestellung A-17 ist unterwegs mit DHL.", "Zustellung: 12. April 2027.", "Sendung verfolgen"]),
        ("fr", ["Votre commande A-17 est en route avec DHL.", "Livraison prévue : 12 avril 2027.", "Suivre"]),
        ("es", ["Tu pedido A-17 está en camino con DHL.", "Entrega prevista: 12 de abril de 2027.", "Seguir"]),
        ("pt-BR", ["Your order A-17 is on its way with DHL.", "Track your order"]),  # no Portuguese: English
    ],
)
def test_a_notice_reads_in_the_customers_language_with_its_tracking_button(language: str, words: list[str]) -> None:
    text, buttons = render(SHIPPED, language, UTC_ZONE)
    said = text + " " + " ".join(b.text for b in buttons)
    assert all(w in said for w in words), said
    assert buttons == (Button(buttons[0].text, url=LINK),)


def test_dates_fall_in_the_shops_zone_and_statuses_without_a_link_have_no_button() -> None:
    text, _ = render(SHIPPED, "en", ZoneInfo("Europe/Berlin"))  # 23:30 UTC is the next day in Berlin
    assert "13 April 2027" in text
    delayed, _ = render(Notice("A-17", "delayed", LINK, None, SHIPPED.expected_at), "de", UTC_ZONE)
    assert "Neuer voraussichtlicher Liefertermin: 12. April 2027." in delayed
    for status in ("paid", "delivered", "refunded"):
        text, buttons = render(Notice("A-17", status), "fr", UTC_ZONE)
        assert "A-17" in text and buttons == () and "2027" not in text


def test_no_template_in_any_language_carries_a_promotion() -> None:
    for language, words in TEXTS.items():
        for name, text in words.items():
            said = text.casefold()
            assert not any(p.casefold() in said for p in PROMOTION if p not in ("off",)), (language, name)


def test_the_notice_switch_words() -> None:
    assert [switch(w) for w in ("STOP NOTICES", "Keine Benachrichtigungen!", "arrêter les notifications")] == [
        False
    ] * 3
    assert [switch(w) for w in ("start notices", "Activar avisos")] == [True, True]
    assert [switch(w) for w in ("stop", "stop my order", "where are my notices?")] == [None, None, None]


async def shop(chat: str = "100", **customer: Any) -> int:
    [ann] = await add_customers("telegram", [chat], first_id=1000, **customer)  # clear of the id sequence
    await Customer.filter(id=ann).update(external_id="ANN")
    await Product.create(sku="RUN-1", name="Runner", price=89.9)
    return ann


def order(status: str, order_id: str = "A-17", **extra: Any) -> dict[str, Any]:
    return {"order_id": order_id, "customer_id": "ANN", "ordered_at": T0.isoformat(), "status": status,
            "lines": [{"sku": "RUN-1", "quantity": 1, "unit_price": 89.9}], **extra}  # fmt: skip


async def test_a_notice_is_sent_beside_a_running_promotion_without_caps_consent_or_offer(database: str) -> None:
    ann = await shop(opted_out=True)  # Ann opted out of marketing
    [bob] = await add_customers("telegram", ["200"], first_id=1001)
    sale = await add_campaign("spring-sale")  # a marketing campaign with an offer, running now
    await add_deliveries(sale, "telegram", [(ann, "100"), (bob, "200")], text="SPRING20: 20% off", due_at=T0)
    for who, chat in ((ann, "100"), (bob, "200")):  # each has had one marketing message today: the cap
        await Delivery.create(campaign_id=sale, step="s0", customer_id=who, channel="telegram", address=chat,
                              text="earlier", status="sent", sent_at=T0 - timedelta(hours=1))  # fmt: skip
    await upsert_order(order("shipped", tracking_url=LINK, expected_at="2027-04-12T12:00:00Z"))
    assert await queue_notices(now=T0) == 1
    clock = Clock(T0)
    channel = RecordingChannel(clock)
    caps = Caps(FrequencyCap(day=1, action="skip"))
    stats = await Dispatcher({"telegram": channel}, worker="n", rates=NO_LIMITS, clock=clock, sleep=clock.sleep,
                             caps=caps).drain()  # fmt: skip
    notices_id = int((await Campaign.get(kind="notices")).id)
    [notice] = channel.messages  # the sale reached neither Ann (opted out) nor Bob (capped)
    assert notice.campaign_id == notices_id and notice.address == "100" and "A-17" in notice.text
    assert not any(p.casefold() in notice.text.casefold() for p in PROMOTION if p != "off")
    assert notice.buttons == (Button("Track your order", url=LINK),)
    skipped = dict(await Delivery.filter(campaign_id=sale, step="s1").values_list("customer_id", "note"))
    assert skipped == {ann: "opted_out", bob: "frequency_cap"}
    assert stats.sent == 1


async def test_notices_do_not_count_against_the_marketing_cap(database: str) -> None:
    ann = await shop()
    await upsert_order(order("paid"))
    await upsert_order(order("shipped"))
    await queue_notices(now=T0)
    clock = Clock(T0)
    channel = RecordingChannel(clock)
    caps = Caps(FrequencyCap(day=1, action="skip"))
    dispatcher = Dispatcher({"telegram": channel}, worker="n", rates=NO_LIMITS, clock=clock, caps=caps)
    await dispatcher.drain()
    assert len(channel.messages) == 2  # both notices at once: no cap holds them
    clock.now = T0 + timedelta(minutes=10)
    sale = await add_campaign("spring-sale")
    await add_deliveries(sale, "telegram", [(ann, "100")], due_at=T0 + timedelta(minutes=5))
    await dispatcher.drain()
    assert [m.campaign_id for m in channel.messages][-1] == sale  # two notices today, and the cap of 1 let it go
    assert await outbox.recent_sends([ann], T0 - timedelta(days=1)) == {ann: [clock.now]}  # only the sale counts


async def test_an_open_complaint_suppresses_the_promotion_but_not_the_notice(database: str) -> None:
    ann = await shop()
    await complaints.open_complaint(ann, at=T0 - timedelta(hours=2), source="message", text="my parcel is late!")
    sale = await add_campaign("spring-sale")
    await add_deliveries(sale, "telegram", [(ann, "100")], text="SPRING20: 20% off", due_at=T0)
    await upsert_order(order("delayed", expected_at="2027-04-20"))
    assert await queue_notices(now=T0) == 1
    clock = Clock(T0)
    channel = RecordingChannel(clock)
    stats = await Dispatcher({"telegram": channel}, worker="n", rates=NO_LIMITS, clock=clock,
                             suppression=Suppression(Unhappy())).drain()  # fmt: skip
    [notice] = channel.messages  # an unhappy customer still hears about her order, and only about it
    assert notice.campaign_id == int((await Campaign.get(kind="notices")).id) and "A-17" in notice.text
    assert await Delivery.filter(campaign_id=sale).values_list("status", "note") == [("skipped", OPEN_COMPLAINT)]
    assert stats.suppressed == 1


async def test_no_chat_means_no_message_and_a_switch_turned_off_late_still_stops_it(database: str) -> None:
    await shop()
    await Customer.create(external_id="NOCHAT", name="Paul")
    await upsert_order(order("paid", order_id="P-1") | {"customer_id": "NOCHAT"})
    await upsert_order(order("paid"))
    assert await queue_notices(now=T0) == 1
    assert await queue_notices(now=T0) == 0  # queued once
    [noted] = await OrderNotice.filter(note__not_isnull=True).values_list("order__external_id", "note")
    assert noted == ("P-1", "no_chat")
    ann = await Customer.get(external_id="ANN")
    assert await notices.set_notices(ann.id, False, T0)  # off after the notice was queued, before it went
    clock = Clock(T0)
    channel = RecordingChannel(clock)
    stats = await Dispatcher({"telegram": channel}, worker="n", rates=NO_LIMITS, clock=clock).drain()
    assert channel.sent == [] and stats.skipped == 1
    assert await Delivery.filter(status="skipped").values_list("note", flat=True) == ["notices_off"]


async def test_chat_words_switch_notices_and_marketing_stop_leaves_them_on(database: str) -> None:
    ann = await shop()
    await Customer.filter(id=ann).update(language="es")
    inbound = Inbound(None, clock=lambda: T0)
    reply = await inbound.handle(InboundEvent("telegram", "100", "text", text="Parar avisos"))
    assert reply is not None and reply.text.startswith("Hecho: ya no te enviaremos avisos")
    customer = await Customer.get(id=ann)
    assert customer.notices_off_at == T0 and customer.opted_out_at is None  # marketing untouched
    reply = await inbound.handle(InboundEvent("telegram", "100", "text", text="START NOTICES"))
    assert reply is not None and "recibirás" in reply.text
    await inbound.handle(InboundEvent("telegram", "100", "text", text="STOP"))  # marketing opt-out
    customer = await Customer.get(id=ann)
    assert customer.notices_off_at is None and customer.opted_out_at is not None
    assert await Event.filter(customer_id=ann).order_by("id").values_list("type", flat=True) == [
        "notices_off",
        "notices_on",
        "opted_out",
    ]
    unknown = await inbound.handle(InboundEvent("telegram", "999", "text", text="stop notices"))
    assert unknown is not None and "/start" in unknown.text


async def test_the_notices_campaign_stays_out_of_lists_attribution_and_endings(database: str) -> None:
    await shop()
    await upsert_order(order("paid"))  # recorded; a crash before queueing is caught up by housekeeping
    done = await housekeeping(60, UTC_ZONE)
    assert done["notices"] == 1
    clock = Clock(T0)
    await Dispatcher({"telegram": RecordingChannel(clock)}, worker="n", rates=NO_LIMITS, clock=clock).drain()
    notices_campaign = await Campaign.get(kind="notices")
    assert notices_campaign.status == "running" and await campaign_lines() == []
    assert await Delivery.filter(campaign=notices_campaign, status="sent").count() == 1
    # a purchase right after a notice is no conversion of it
    await upsert_order(order("placed", order_id="A-18", ordered_at=(T0 + timedelta(hours=1)).isoformat()))
    assert await attribute("A-18") is None and not await Event.filter(type="converted").exists()


class Blocked(RecordingChannel):
    """Telegram after the customer blocked the bot."""

    async def send(self, message: OutboundMessage) -> SendReceipt:
        raise RecipientUnreachable("Forbidden: bot was blocked by the user", left="blocked")


async def test_blocking_one_chat_ends_the_marketing_but_not_a_notice_due_on_another(database: str) -> None:
    ann = await shop()
    await ChannelIdentity.create(customer_id=ann, channel="slack", address="T1:U1")  # linked last: notices go there
    await upsert_order(order("shipped", tracking_url=LINK))
    assert await queue_notices(now=T0) == 1
    sale = await add_campaign("spring-sale")
    await add_deliveries(sale, "telegram", [(ann, "100")], due_at=T0)
    await add_deliveries(await add_campaign("summer"), "slack", [(ann, "T1:U1")], due_at=T0 + timedelta(days=30))
    clock = Clock(T0)
    await Dispatcher({"telegram": Blocked(clock)}, worker="n", rates=NO_LIMITS, clock=clock).drain()
    left = await Delivery.filter(customer_id=ann).order_by("id").values_list("campaign__key", "status", "note")
    assert left == [("order-notices", "queued", None), ("spring-sale", "skipped", "blocked"),
                    ("summer", "skipped", "blocked")]  # fmt: skip


class Refusing(RecordingChannel):
    """A channel that refuses every message for good."""

    async def send(self, message: OutboundMessage) -> SendReceipt:
        raise PermanentChannelError("Bad Request: message is too long")


async def test_failing_notices_never_pause_the_notices(database: str) -> None:
    await shop()
    for number in range(4):
        await upsert_order(order("paid", order_id=f"A-{number}"))
    assert await queue_notices(now=T0) == 4
    clock = Clock(T0)
    dispatcher = Dispatcher({"telegram": Refusing(clock)}, worker="n", rates=NO_LIMITS, clock=clock, error_min=2)
    stats = await dispatcher.drain()
    assert stats.failed == 4 and stats.paused == []
    assert (await Campaign.get(kind="notices")).status == "running"


async def test_a_notice_prefers_a_chat_on_a_channel_the_sender_runs(database: str) -> None:
    ann = await shop()  # Telegram chat 100
    await ChannelIdentity.create(customer_id=ann, channel="slack", address="T1:U1")  # linked last
    await upsert_order(order("paid", order_id="A-1"))
    assert await queue_notices(now=T0, channels=["telegram"]) == 1  # a Telegram-only serve: not the later Slack
    await upsert_order(order("paid", order_id="A-2"))
    assert await queue_notices(now=T0, channels=["whatsapp"]) == 1  # none there: the latest, as without channels
    await upsert_order(order("paid", order_id="A-3"))
    assert await queue_notices(now=T0) == 1
    sent = await Delivery.filter(customer_id=ann).order_by("id").values_list("channel", "address")
    assert sent == [("telegram", "100"), ("slack", "T1:U1"), ("slack", "T1:U1")]

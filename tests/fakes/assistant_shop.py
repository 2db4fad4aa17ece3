"""A small shop for the assistant's tests: a catalog, two customers with an order each, chat identities, and the
engine wired as ``serve`` wires it (Inbound with the assistant as its responder)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.knowledge import Knowledge
from assistant.knowledge import load as load_knowledge
from assistant.llm import OpenAIAssistant
from assistant.service import Assistant, AssistantConfig
from bots.inbound.acts import Inbound
from campaigns.ports import Channel, ChannelLimits, InboundEvent, OutboundMessage, Reply, SendReceipt
from storage.models import ChannelIdentity, Customer, Order, OrderItem, Product

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "examples" / "shop" / "knowledge.yaml"
NOW = datetime(2027, 3, 10, 12, tzinfo=UTC)
MIA_CHAT, BOB_CHAT = "7001", "7002"
PRODUCTS = [
    ("RUN-TR1", "Trail Runner 2", "shoes", 89.90, 12),
    ("RUN-RD5", "Road Racer 5", "shoes", 119.00, 4),
    ("RUN-OLD", "Classic Jogger", "shoes", 59.00, 0),
    ("APP-JKT", "Summit Jacket", "apparel", 149.00, 7),
    ("APP-SOX", "Merino Socks", "apparel", 14.50, 50),
    ("ACC-BTL", "Trail Bottle", "accessories", 19.00, None),
]
# what Bob's data looks like: none of it may ever reach Mia
BOB_SECRETS = ("B2002", "Bob", "Stone", "bob@example.com", "Elm Street", "7946")


@dataclass
class Shop:
    """The customers' ids."""

    mia: int
    bob: int
    products: dict[str, int] = field(default_factory=dict)


async def seed() -> Shop:
    """The catalog; Mia bought Trail Runner 2 (order A1001, shipped); Bob bought the Summit Jacket (B2002)."""
    ids = {}
    for sku, name, category, price, stock in PRODUCTS:
        url = f"https://shop.example.com/p/{sku.lower()}"
        product = await Product.create(sku=sku, name=name, category=category, price=price, stock=stock, url=url)
        ids[sku] = product.id
    mia = await Customer.create(
        external_id="C-MIA", name="Mia Berg", email="mia@example.com", opted_in_at=NOW - timedelta(days=60)
    )
    bob = await Customer.create(
        external_id="C-BOB", name="Bob Stone", email="bob@example.com", phone="+44 20 7946 0000",
        attributes={"address": "12 Elm Street"}, opted_in_at=NOW - timedelta(days=60),
    )  # fmt: skip
    for customer, chat in ((mia, MIA_CHAT), (bob, BOB_CHAT)):
        await ChannelIdentity.create(customer=customer, channel="telegram", address=chat)
    await _order("A1001", mia, "RUN-TR1", 89.90, ids, status="shipped")
    await _order("B2002", bob, "APP-JKT", 149.00, ids, status="paid")
    return Shop(mia.id, bob.id, ids)


async def _order(ref: str, customer: Customer, sku: str, price: float, ids: dict[str, int], *, status: str) -> None:
    order = await Order.create(
        external_id=ref, customer=customer, ordered_at=NOW - timedelta(days=5), status=status, total=price
    )
    await OrderItem.create(order=order, line=1, product_id=ids[sku], quantity=1, unit_price=price)


def knowledge() -> Knowledge:
    """The sample shop's own knowledge file."""
    return load_knowledge(KNOWLEDGE)


class Outbox:
    """A Telegram channel that keeps what it was asked to send."""

    name = "telegram"
    limits = ChannelLimits(4096, 1024, 64, 30, 1)

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendReceipt:
        self.sent.append(message)
        return SendReceipt((str(len(self.sent)),), datetime.now(UTC), message.address)


class Staff:
    """The staff side as a test sees it: alerts (threads) and what was posted in them."""

    def __init__(self) -> None:
        self.alerts: list[tuple[str, str | None]] = []
        self.posts: list[tuple[str, str]] = []

    async def alert(self, text: str, *, link: str | None = None) -> str:
        self.alerts.append((text, link))
        return f"T0:C0STAFF:{len(self.alerts)}.0001"

    async def post(self, thread: str, text: str) -> None:
        self.posts.append((thread, text))


def engine(
    *,
    model: OpenAIAssistant | None = None,
    staff: Staff | None = None,
    channels: Mapping[str, Channel] | None = None,
    clock: datetime = NOW,
) -> tuple[Inbound, Assistant]:
    """Inbound with the assistant answering, as the root wires them."""
    assistant = Assistant(
        knowledge(), model=model, staff=staff, channels=channels, clock=lambda: clock,
        config=AssistantConfig(shop_name="Stride & Trail", public_url="https://admin.shop.example"),
    )  # fmt: skip
    return Inbound(None, clock=lambda: clock, responder=assistant), assistant


async def say(inbound: Inbound, text: str, chat: str = MIA_CHAT) -> Reply | None:
    """Mia (or ``chat``) writes ``text`` on Telegram; the engine's reply."""
    return await inbound.handle(InboundEvent("telegram", chat, "text", text=text))

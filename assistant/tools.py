"""What the assistant can look up and do, for one customer at a time.

A :class:`Toolbox` is made per turn for the customer whose chat it is (their id comes from the chat's identity,
never from what they typed). Each tool returns JSON-able data and adds what it returned to the turn's
:class:`~assistant.guard.Facts`, the only figures and codes the answer may then quote. The same tools serve the
model (as function calls, :data:`SCHEMAS`) and the offline assistant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ruamel.yaml import YAML

from assistant.guard import Facts
from assistant.knowledge import Knowledge
from segments.recommend import Pick, Recommender
from storage import conversations, descriptions, identities

log = logging.getLogger(__name__)
OFFER_DAYS = 30  # a reply within this many days of a campaign message is about that campaign
MAX_RESULTS = 5


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": parameters,
        },
    }
    for name, description, parameters in (
        (
            "search_products",
            "Search the shop's catalog by words, category, highest price and stock. Returns up to 5 products.",
            _object(
                {
                    "query": {"type": "string", "description": "Words to find in the product's name or tags."},
                    "category": {"type": "string"},
                    "max_price": {"type": "number"},
                    "in_stock_only": {"type": "boolean"},
                }
            ),
        ),
        (
            "recommend_products",
            "Products for this customer from their purchase history (never what they bought), in stock.",
            _object({"count": {"type": "integer", "minimum": 1, "maximum": 5}}),
        ),
        (
            "order_status",
            "This customer's own orders (the latest few, or the one with this order number).",
            _object({"order": {"type": "string", "description": "The order number, if the customer gave one."}}),
        ),
        (
            "shop_policy",
            "The shop's policy on a topic, to quote: shipping, returns, payment, discounts, warranty, contact.",
            _object({"topic": {"type": "string"}}, ["topic"]),
        ),
        (
            "campaign_offer",
            "The offer of the campaign message this customer got last (code, discount, expiry), if any.",
            _object({}),
        ),
        ("unsubscribe", "Stop all marketing messages to this customer, when they ask for that.", _object({})),
        (
            "hand_off",
            "Pass the conversation to a person of the shop's staff, when the customer asks or you cannot help.",
            _object({"reason": {"type": "string"}}),
        ),
    )
]


@dataclass
class Toolbox:
    """The tools, bound to one customer and one turn; ``facts`` gathers what they returned."""

    customer_id: int
    channel: str
    knowledge: Knowledge
    now: datetime
    facts: Facts = field(default_factory=Facts)
    unsubscribed: bool = False
    handoff: str | None = None
    used: list[str] = field(default_factory=list)

    async def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run the tool ``name``; an unknown tool or bad arguments give an error result, never an exception."""
        method = getattr(self, f"tool_{name}", None)
        if method is None:
            return {"error": f"there is no tool {name!r}"}
        self.used.append(name)
        try:
            result: dict[str, Any] = await method(**arguments)
        except TypeError as exc:
            return {"error": f"bad arguments for {name}: {exc}"}
        self.facts.add(result)
        return result

    async def tool_search_products(
        self,
        query: str | None = None,
        category: str | None = None,
        max_price: float | None = None,
        in_stock_only: bool = True,
    ) -> dict[str, Any]:
        """Catalog products matching the filters, cheapest first."""
        price = float(max_price) if isinstance(max_price, int | float) and not isinstance(max_price, bool) else None
        found = await conversations.search_products(
            text=str(query)[:100] if query else None,
            category=str(category)[:100] if category else None,
            max_price=price,
            in_stock=bool(in_stock_only),
            limit=MAX_RESULTS,
        )
        items = [_product(p.sku, p.name, p.category, p.price, p.currency, p.stock, p.url) for p in found]
        return {"products": await self._described(items)}

    async def tool_recommend_products(self, count: int = 3) -> dict[str, Any]:
        """Products this customer has not bought, in stock: cross-sell from their history, then bestsellers."""
        n = max(1, min(int(count) if isinstance(count, int) else 3, MAX_RESULTS))
        picks = await Recommender(Pick("cross_sell", None, n), as_of=self.now).pick([self.customer_id])
        rows = picks.get(self.customer_id, [])
        items = [_product(p.sku, p.name, p.category, p.price, p.currency, p.stock, p.url) for p in rows]
        return {"products": await self._described(items)}

    async def _described(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``items`` with each one's approved short description in the customer's language, where it has one."""
        if not items:
            return items
        language = await descriptions.customer_language(self.customer_id)
        shorts = await descriptions.short_texts([i["sku"] for i in items], language)
        return [i | {"description": shorts[i["sku"]]} if i["sku"] in shorts else i for i in items]

    async def tool_order_status(self, order: str | None = None) -> dict[str, Any]:
        """This customer's orders; a number that is not one of theirs finds nothing (and says no more)."""
        reference = str(order).strip().lstrip("#")[:64] if order else None
        rows = await conversations.orders(self.customer_id, reference=reference or None)
        if reference and not rows:
            return {"orders": [], "note": "no order with that number among this customer's orders"}
        return {"orders": rows}

    async def tool_shop_policy(self, topic: str = "") -> dict[str, Any]:
        """A policy's text, by its key or by the topic a question points at."""
        key = str(topic).casefold().strip()
        policy = self.knowledge.policies.get(key)
        if policy is None:
            found = self.knowledge.topic(key)
            policy = self.knowledge.policies.get(found) if found else None
            key = found or key
        if policy is None:
            return {"error": "no such policy", "topics": sorted(self.knowledge.policies)}
        return {"topic": key, "title": policy.title, "text": policy.text}

    async def tool_campaign_offer(self) -> dict[str, Any]:
        """The offer of the last campaign message this customer got (within 30 days), if it had one."""
        delivery = await conversations.last_campaign_message(
            self.customer_id, self.channel, self.now - timedelta(days=OFFER_DAYS)
        )
        if delivery is None:
            return {"offer": None}
        offer = _offer(delivery.campaign.yaml)
        if offer and offer.get("expires") and str(offer["expires"]) < self.now.date().isoformat():
            return {"campaign": delivery.campaign.name, "offer": None, "note": "the offer has expired"}
        return {"campaign": delivery.campaign.name, "offer": offer}

    async def tool_unsubscribe(self) -> dict[str, Any]:
        """Opt the customer out of marketing, at once."""
        if not self.unsubscribed:
            await identities.opt_out(self.customer_id, at=self.now)
            data = {"channel": self.channel, "source": "assistant"}
            await identities.add_event("opted_out", at=self.now, customer_id=self.customer_id, data=data)
            self.unsubscribed = True
        return {"done": True}

    async def tool_hand_off(self, reason: str = "") -> dict[str, Any]:
        """Ask for a person; the service posts it to the staff after this turn."""
        self.handoff = "asked"
        return {"done": True, "note": "a person from the shop will answer in this chat"}


def _product(
    sku: str, name: str, category: str, price: float, currency: str, stock: int | None, url: str | None
) -> dict[str, Any]:
    item: dict[str, Any] = {"sku": sku, "name": name, "category": category, "price": round(price, 2)}
    item |= {"currency": currency, "in_stock": stock is None or stock > 0}
    if stock is not None:
        item["stock"] = stock
    if url:
        item["url"] = url
    return item


def _offer(snapshot: str) -> dict[str, Any] | None:
    """The ``offer`` block of a campaign's YAML snapshot, as plain data."""
    try:
        data = YAML(typ="safe").load(snapshot) or {}
    except Exception:  # a snapshot was valid when launched; if not, there is simply no offer to tell
        log.warning("a campaign's YAML snapshot could not be read for its offer", exc_info=True)
        return None
    offer = data.get("offer") if isinstance(data, dict) else None
    if not isinstance(offer, dict) or not offer.get("code"):
        return None
    return {k: str(v) for k, v in offer.items() if k in ("code", "discount", "expires")}

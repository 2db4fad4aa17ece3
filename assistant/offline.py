"""The assistant without a model: it matches what the customer asks to the same tools, and answers from their data.

It understands English questions about the customer's orders, products (by words, category, price), what to
buy next, the shop's policies, the offer they were sent, and asks for a person; anything else gets a short
list of what it can do, and counts as unanswered (two in a row hand the chat to a person).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.tools import Toolbox

_WHO = r"(a |an |the |some |real |live |your )*(human|person|agent|someone|somebody|staff|representative|operator|team)"
_HUMAN = re.compile(
    rf"\b(talk|speak|chat)( to| with)? {_WHO}\b|^\W*(human|agent|operator|representative|a person)( please)?\W*$|"
    rf"\b(real|live) (person|human|agent)\b|\b(want|need|like|get) {_WHO}\b|\bcall me\b|\bhuman please\b"
)
_UNSUBSCRIBE = re.compile(
    r"\b(unsubscribe|opt( me)? out|stop (sending|messaging|texting)|no more (messages|offers|promotions)|"
    r"don'?t (want|send) (your |any )?(messages|offers|promotions|newsletters?))\b"
)
_ORDER = re.compile(r"\b(orders?|package|parcel|tracking|track|shipment|where is my|where's my|wheres my)\b|#\s?\w*\d")
_OFFER = re.compile(r"\b(offer|deal|promo|promotion|coupon|voucher|my code|discount code|the code|sale)\b")
_RECOMMEND = re.compile(
    r"\b(recommend\w*|suggest\w*|what should i (buy|get|try)|gift|ideas?|something (new|else|for me)|"
    r"what else|goes with|pair with|next purchase)\b"
)
_SEARCH = re.compile(
    r"\b(do you (have|sell|stock)|have you got|looking for|look for|search|find|show me|any|sell|price of|"
    r"how much|cost|costs|in stock|available|under|below|cheaper than|less than)\b"
)
_GREETING = re.compile(r"^\s*(hi|hello|hey|hallo|hola|bonjour|good (morning|afternoon|evening))\b[\s!.,]*$")
_THANKS = re.compile(r"\b(thanks|thank you|thx|cheers|great, thanks)\b")
_PRICE_CAP = re.compile(r"\b(?:under|below|less than|cheaper than|max(?:imum)?|up to)\s*[$€£]?\s*(\d+(?:\.\d+)?)")
_ORDER_REF = re.compile(r"(?:#\s?|\border\s+(?:number\s+|no\.?\s*)?)([A-Za-z0-9-]*\d[A-Za-z0-9-]*)", re.IGNORECASE)
_STOP_WORDS = set(
    [
        "a",
        "an",
        "the",
        "do",
        "you",
        "have",
        "sell",
        "stock",
        "got",
        "i",
        "im",
        "i'm",
        "am",
        "looking",
        "for",
        "look",
        "search",
        "find",
        "show",
        "me",
        "any",
        "some",
        "of",
        "price",
        "how",
        "much",
        "does",
        "do",
        "cost",
        "costs",
        "in",
        "stock",
        "available",
        "under",
        "below",
        "cheaper",
        "than",
        "less",
        "max",
        "maximum",
        "up",
        "to",
        "please",
        "pls",
        "is",
        "are",
        "there",
        "what",
        "which",
        "your",
        "my",
        "want",
        "need",
        "would",
        "like",
        "to",
        "buy",
        "get",
        "with",
        "and",
        "or",
        "it",
        "them",
        "something",
    ]
)
HELP = (
    'I can help with your orders ("where is my order?"), products ("do you have trail shoes under 100?"), '
    'ideas for you ("what do you recommend?"), shipping, returns, payment and warranty, the offer you got '
    'from us, or a person from our team ("talk to a person").'
)


@dataclass(frozen=True)
class Answer:
    """What the assistant says, and whether it understood the question."""

    text: str
    understood: bool = True


class OfflineAssistant:
    """Intent matching over the tools; deterministic, no network."""

    async def answer(self, text: str, tools: Toolbox, history: list[Any] | None = None) -> Answer:
        """The answer to ``text`` for the customer ``tools`` is bound to."""
        said = " ".join(text.casefold().split())
        if _UNSUBSCRIBE.search(said):
            await tools.call("unsubscribe", {})
            return Answer("Done: you won't get news or offers from us any more.")
        if _HUMAN.search(said):
            await tools.call("hand_off", {"reason": "asked"})
            return Answer("Of course: I've asked a person from our team to join this chat. They'll answer here.")
        topic = tools.knowledge.topic(said)
        if topic in ("returns", "warranty"):
            return await self._policy(tools, topic)
        if (_ORDER.search(said) and not _SEARCH.search(said)) or _ORDER_REF.search(text):
            return await self._orders(tools, text)
        if _OFFER.search(said):
            return await self._offer(tools)
        if _RECOMMEND.search(said):
            return self._products("Picked for you", await tools.call("recommend_products", {"count": 3}))
        if topic is not None and not _SEARCH.search(said):
            return await self._policy(tools, topic)
        categories = await _categories(said)
        if _SEARCH.search(said) or categories:
            return await self._search(tools, said, categories)
        if topic is not None:
            return await self._policy(tools, topic)
        if _GREETING.match(said):
            return Answer(f"Hello! {HELP}")
        if _THANKS.search(said):
            return Answer("You're welcome! Anything else, just write here.")
        return Answer(f"Sorry, I didn't understand that. {HELP}", understood=False)

    async def _policy(self, tools: Toolbox, topic: str) -> Answer:
        result = await tools.call("shop_policy", {"topic": topic})
        if "text" not in result:
            return Answer(f"Sorry, I have nothing on that. {HELP}", understood=False)
        return Answer(f"{result['title']}: {result['text']}")

    async def _orders(self, tools: Toolbox, text: str) -> Answer:
        match = _ORDER_REF.search(text)
        result = await tools.call("order_status", {"order": match.group(1)} if match else {})
        orders = result.get("orders") or []
        if not orders:
            if match:
                return Answer(
                    f"I can't find an order {match.group(1)} among your orders. Please check the number in your "
                    'confirmation, or write "my orders" to see your latest ones.'
                )
            return Answer("I can't find any orders of yours. If you ordered with another account, ask for a person.")
        lines = [_order_line(o) for o in orders[:3]]
        return Answer("Your orders:\n" + "\n".join(lines))

    async def _offer(self, tools: Toolbox) -> Answer:
        result = await tools.call("campaign_offer", {})
        offer = result.get("offer")
        if offer:
            until = f", valid until {offer['expires']}" if offer.get("expires") else ""
            return Answer(f"Your offer from \"{result['campaign']}\": {offer.get('discount', 'a discount')} off with "
                          f"code {offer['code']}{until}.")  # fmt: skip
        policy = await tools.call("shop_policy", {"topic": "discounts"})
        note = " That offer has expired." if result.get("note") else ""
        base = f"I don't see a current offer for you.{note}"
        return Answer(f"{base} {policy['text']}" if "text" in policy else base)

    async def _search(self, tools: Toolbox, said: str, categories: list[str]) -> Answer:
        cap = _PRICE_CAP.search(said)
        words = [w for w in re.findall(r"[a-z0-9-]+", said) if w not in _STOP_WORDS and not w.isdigit()]
        category = categories[0] if categories else None
        if category:
            words = [w for w in words if w.rstrip("s") not in category.casefold()]
        arguments: dict[str, Any] = {"query": " ".join(words) or None, "category": category, "in_stock_only": True}
        if cap:
            arguments["max_price"] = float(cap.group(1))
        result = await tools.call("search_products", arguments)
        if not result.get("products") and arguments["query"] and category:
            result = await tools.call("search_products", {**arguments, "query": None})
        if not result.get("products"):
            return Answer("I couldn't find a product like that in stock. Try other words, or ask for a recommendation.")
        return self._products("Here is what I found", result)

    @staticmethod
    def _products(title: str, result: dict[str, Any]) -> Answer:
        products = result.get("products") or []
        if not products:
            return Answer("I have nothing to suggest right now; our bestsellers are on our website.")
        return Answer(f"{title}:\n" + "\n".join(_product_line(p) for p in products))


def _product_line(p: dict[str, Any]) -> str:
    stock = "in stock" if p.get("in_stock") else "out of stock"
    link = f" {p['url']}" if p.get("url") else ""
    about = f"\n  {p['description']}" if p.get("description") else ""
    return f"• {p['name']} ({p['sku']}): {p['price']:.2f} {p['currency']}, {stock}{link}{about}"


def _order_line(o: dict[str, Any]) -> str:
    items = ", ".join(f"{i['name']} x{i['quantity']}" for i in o.get("items", [])[:3])
    return f"• Order {o['order']} of {o['ordered_at']}: {o['status']}, {o['total']:.2f} {o['currency']}" + (
        f" ({items})" if items else ""
    )


async def _categories(said: str) -> list[str]:
    from storage.conversations import categories

    found = []
    for category in await categories():
        name = category.casefold()
        if re.search(rf"\b{re.escape(name.rstrip('s'))}", said):
            found.append(category)
    return found

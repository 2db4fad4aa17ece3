"""The shop's customers in their chats: what each has received, and what they do there and at the shop.

Everything goes through what a customer touches: the Telegram and Slack sandboxes (pressing a button, writing,
blocking the bot) and the shop's checkout, which posts the order to ``chatcast serve``'s ``POST /hooks/orders``
as a shop's webhook does. Each action returns once ``serve`` has visibly taken it in (the callback answered,
the reply written, the webhook answered), so the clock can travel on.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatcast.serve import ServiceState
from tests.fakes.cli import Cli
from tests.fakes.journeys.chats import TEAM, Chats
from tests.fakes.journeys.shop import PRODUCTS, Person

HOOK_SECRET = "journey-orders-secret"


@dataclass(frozen=True)
class Said:
    """One message from the shop in a customer's chat: its text, when it arrived, its buttons' labels."""

    text: str
    at: datetime
    buttons: tuple[str, ...]
    raw: Any


def _telegram_buttons(markup: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(b["text"] for row in (markup or {}).get("inline_keyboard", []) for b in row)


def inbox(chats: Chats, person: Person) -> list[Said]:
    """Every message the shop sent ``person``, in order."""
    if person.slack:
        return [
            Said(m.text, datetime.fromtimestamp(float(m.ts), UTC), tuple(b["text"]["text"] for b in m.buttons()), m)
            for m in chats.slack.dm(TEAM, person.chat)
        ]
    return [
        Said(m.text or "", datetime.fromtimestamp(m.date, UTC), _telegram_buttons(m.reply_markup), m)
        for m in chats.telegram.sent(int(person.chat))
    ]


def press(chats: Chats, person: Person, said: Said, label: str) -> None:
    """``person`` presses the button ``label`` under ``said``; returns when the bot has taken the press in
    (Telegram: it answered the callback; Slack: the app acknowledged it)."""
    if person.slack:
        [button] = [b for b in said.raw.buttons() if b["text"]["text"] == label]
        status, _ = chats.run(chats.slack.press(TEAM, person.chat, said.raw, button["action_id"], button.get("value")))
        assert status == 200, status
        return
    [button] = [b for row in said.raw.reply_markup["inline_keyboard"] for b in row if b["text"] == label]
    assert "callback_data" in button, f"{label!r} is a link: Telegram tells the bot nothing when it is opened"
    answered = len(chats.telegram.answered_callbacks)
    chats.run(chats.telegram.user_presses(int(person.chat), said.raw.message_id, button["callback_data"]))
    chats.wait(lambda: len(chats.telegram.answered_callbacks) > answered)


def write(chats: Chats, person: Person, text: str) -> str:
    """``person`` writes ``text`` to the shop; the shop's answer, once it has arrived."""
    before = len(inbox(chats, person))
    if person.slack:
        chats.run(chats.slack.user_sends(TEAM, person.chat, text))
        chats.run(chats.slack.wait_for(lambda: len(chats.slack.dm(TEAM, person.chat)) > before, timeout=30))
    else:
        chats.run(chats.telegram.user_sends(int(person.chat), text, first_name=person.first))
        chats.wait(lambda: len(chats.telegram.sent(int(person.chat))) > before)
    return inbox(chats, person)[-1].text


def block(chats: Chats, person: Person) -> None:
    """``person`` blocks the bot (Telegram) or leaves the workspace (Slack): the shop finds out when it next writes."""
    if person.slack:
        chats.slack.deactivate(TEAM, person.chat)
    else:
        chats.telegram.block(int(person.chat))


def buy(
    service: ServiceState, person: Person, order_id: str, sku: str, at: datetime, *, code: str = ""
) -> dict[str, Any]:
    """``person`` orders one ``sku`` at ``at`` and pays: the shop posts the order to the webhook; its answer."""
    order = {
        "order_id": order_id,
        "customer_id": person.key,
        "ordered_at": at.isoformat(),
        "currency": "EUR",
        "status": "paid",
        "discount_code": code or None,
        "lines": [{"sku": sku, "quantity": 1, "unit_price": PRODUCTS[sku][2]}],
    }
    request = urllib.request.Request(
        f"{service.url}/hooks/orders",
        data=json.dumps(order).encode(),
        headers={"Content-Type": "application/json", "X-Chatcast-Secret": HOOK_SECRET},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
        return dict(json.load(answer))


def reported(cli: Cli, campaign: str, holds: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
    """``chatcast report campaign CAMPAIGN --json`` once it shows what ``holds`` expects. A Slack app acknowledges a
    press before it records it (Slack wants the answer within 3 s), and a link's press changes nothing else the
    customer could see: the report is where it shows."""
    deadline = time.monotonic() + timeout
    while True:
        figures: dict[str, Any] = json.loads(cli.ok("report", "campaign", campaign, "--json"))
        if holds(figures) or time.monotonic() > deadline:
            assert holds(figures), figures["funnel"]
            return figures

"""Inbound chaos: an hour of a shop's chat traffic replayed through the real aiogram webhook, with Telegram's habits
turned up: updates redelivered one to five times, replies refused with 429 (and its retry_after) or a 5xx.

The traffic is generated from a seed (``CHATCAST_RELIABILITY=long``: four times as much): customers start the bot,
ask questions, press Unsubscribe, send /stop, come back with /start, and some block the bot for good. A model of
what each action must do is kept beside it, and at the end the database and the chats are checked against it:
every update had its effects once (opt-ins, opt-outs, clicks, the customer's words, the answers), every answer
reached its chat exactly once (or, for a customer who blocked the bot, at most once), and no row is left unsent.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot

from bots.inbound.acts import STOPPED
from storage.models import ChannelIdentity, ChatMessage, Delivery, Event, InboundUpdate
from tests.fakes.environment import LONG
from tests.fakes.replies import Serving, telegram_serving
from tests.fakes.sandboxes import CountingSandbox

CHATS = 40 if LONG else 10
ACTIONS = 400 if LONG else 100
FIRST_CHAT = 7_000
pytestmark = pytest.mark.usefixtures("database")


@dataclass
class Expected:
    """What the actions so far must have done, per chat."""

    subscribed: dict[int, bool] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    events: Counter[tuple[int, str]] = field(default_factory=Counter)
    words: Counter[int] = field(default_factory=Counter)
    answers: dict[int, Counter[str]] = field(default_factory=dict)

    def answer(self, chat: int, text: str) -> None:
        self.answers.setdefault(chat, Counter())[text] += 1


@pytest.fixture
async def serving(telegram_sandbox: CountingSandbox, telegram_bot: Bot) -> AsyncIterator[Serving]:
    # the pace is not what this test is about (tests/bots/telegram/test_replies.py has it): no real-time waits
    async with telegram_serving(telegram_sandbox, telegram_bot, {"telegram": 1e6, "telegram/chat": 1e6}) as serving:
        yield serving


def _unsubscribe(serving: Serving, chat: int) -> tuple[int, str] | None:
    """The message and callback data of the chat's latest Unsubscribe button, if it has one yet."""
    for message in reversed(serving.sandbox.sent(chat)):
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == "Unsubscribe":
                    return message.message_id, str(button["callback_data"])
    return None


async def _act(serving: Serving, rng: random.Random, chat: int, expected: Expected, n: int) -> dict[str, Any] | None:
    """One customer action, its effects added to ``expected``; the update it made (None: nothing to do)."""
    sandbox, subscribed = serving.sandbox, expected.subscribed.get(chat)
    roll = rng.random()
    if subscribed is None or (not subscribed and roll < 0.5):
        expected.subscribed[chat] = True
        expected.events[(chat, "opted_in")] += 1
        update = await sandbox.user_sends(chat, "/start")
        expected.answer(chat, "welcome")
        return update
    if roll < 0.55:
        pressed = _unsubscribe(serving, chat)
        if pressed is None:
            return None
        update = await sandbox.user_presses(chat, *pressed)  # an opt-out, not a click
    elif roll < 0.65:
        update = await sandbox.user_sends(chat, "/stop")
    elif roll < 0.68:
        update = await sandbox.user_blocks(chat)
        if subscribed:
            expected.events[(chat, "opted_out")] += 1
        expected.subscribed[chat] = False
        expected.blocked.add(chat)
        return update
    else:
        text = f"question {n} from {chat}"
        update = await sandbox.user_sends(chat, text)
        expected.events[(chat, "replied")] += 1
        expected.words[chat] += 1
        expected.answer(chat, f"You said: {text}")
        return update
    if subscribed:
        expected.events[(chat, "opted_out")] += 1
    expected.subscribed[chat] = False
    expected.answer(chat, STOPPED)
    return update


def _said(serving: Serving, chat: int) -> Counter[str]:
    """What the chat received, the welcome (its wording varies) counted as one kind."""
    texts = [m.text or "" for m in serving.sandbox.sent(chat)]
    return Counter("welcome" if t.startswith("Welcome!") else t for t in texts)


async def test_an_hour_of_traffic_with_redeliveries_and_refusals_has_each_effect_once(serving: Serving) -> None:
    rng, sandbox, expected = random.Random(20261203), serving.sandbox, Expected()
    chats = [FIRST_CHAT + i for i in range(CHATS)]
    redelivered = refused = performed = 0
    for n in range(ACTIONS):
        serving.clock.advance(3600 / ACTIONS)  # an hour, spread over the actions
        live = [c for c in chats if c not in expected.blocked]
        if not live:
            break
        if rng.random() < 0.2:  # the next reply is refused
            refused += 1
            if rng.random() < 0.5:
                sandbox.fail_next(429, "Too Many Requests: retry after 3", retry_after=3, method="sendMessage")
            else:
                sandbox.fail_next(502, "Bad Gateway", method="sendMessage")
        update = await _act(serving, rng, rng.choice(live), expected, n)
        performed += update is not None
        if update is not None and rng.random() < 0.3:  # Telegram redelivers it, one to five times
            for _ in range(rng.randint(1, 5)):
                redelivered += 1
                await sandbox.feed.publish(update)
        if rng.random() < 0.1:  # now and then the dispatcher's loop catches up
            await serving.dispatcher.drain()
    await serving.dispatcher.drain()

    assert redelivered > 10 and refused > 5, (redelivered, refused)  # the chaos happened
    assert set(sandbox.webhook_responses) == {200}  # no update ever failed, whatever happened to its reply
    for chat in chats:
        said, meant = _said(serving, chat), expected.answers.get(chat, Counter())
        if chat in expected.blocked:  # what was not sent before the block never will be; nothing twice
            assert said <= meant, (chat, said, meant)
        else:
            assert said == meant, (chat, said, meant)
    chat_of = {i.customer_id: int(i.address) for i in await ChannelIdentity.all()}  # type: ignore[attr-defined]
    stored = Counter(
        (chat_of[e.customer_id], e.type)  # type: ignore[attr-defined]
        for e in await Event.filter(type__in=["opted_in", "opted_out", "clicked", "replied"])
    )
    assert stored == +expected.events
    words = Counter(chat_of[m.customer_id] for m in await ChatMessage.filter(role="customer"))  # type: ignore[attr-defined]
    assert words == +expected.words
    for identity in await ChannelIdentity.all().prefetch_related("customer"):
        chat, customer = int(identity.address), identity.customer
        given, out = customer.opted_in_at, customer.opted_out_at
        assert (given is not None and (out is None or given > out)) == expected.subscribed[chat], chat
        assert identity.reachable == (chat not in expected.blocked), chat
    assert await Delivery.filter(status__in=["queued", "sending", "failed", "unknown"]).count() == 0
    assert await InboundUpdate.all().count() == performed  # each update recorded once, however often it came

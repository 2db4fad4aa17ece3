"""Tracked links through the dispatcher, the real Telegram adapter and the sandbox, on a fake clock: the rewritten
text is the one split into pieces (each within Telegram's limit, no link cut), a retry of piece k of n sends the same
links, and only marketing is tracked (an order notice goes as written)."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot

from bots.telegram.app import build_bot
from bots.telegram.channel import TelegramChannel, pieces
from bots.telegram.limits import TEXT_MAX
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.delivery.links import LinkTokens, TrackedLinks
from campaigns.ports import Button, OutboundMessage
from storage.models import Campaign, Delivery
from tests.fakes.clock import Clock
from tests.fakes.dispatch_worker import BUTTONS, NO_LIMITS, add_campaign, add_customers, add_deliveries

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
LINKS = TrackedLinks(LinkTokens("dispatch-secret"), "https://chat.shop.example/")
# three pieces once tracked: each part is just under the limit as written, and its short links grow when tracked
PART = "Spring is here and so is the sale: https://s.example/a. " * 70
LONG = "\n\n".join(f"Part {n}. {PART}" for n in range(3))


@pytest.fixture
def clock() -> Clock[datetime]:
    return Clock(T0)


@pytest.fixture
async def per_chat(telegram_spec: Path, clock: Clock[datetime]) -> AsyncIterator[TelegramSandbox]:
    """The Bot API sandbox answering 429 past Telegram's one message a second per chat, on the test's clock."""
    seconds = lambda: (clock.now - T0).total_seconds()  # noqa: E731
    async with TelegramSandbox(spec=telegram_spec, rate_limits=True, clock=seconds) as sandbox:
        yield sandbox
        assert sandbox.violations == [], sandbox.violations


@pytest.fixture
async def bot(per_chat: TelegramSandbox) -> AsyncIterator[Bot]:
    bot = build_bot(per_chat.token, api_url=per_chat.base_url, timeout=5)
    yield bot
    await bot.session.close()


def dispatcher(bot: Bot, clock: Clock[datetime], links: TrackedLinks | None = LINKS) -> Dispatcher:
    return Dispatcher({"telegram": TelegramChannel(bot)}, worker="w1", rates=NO_LIMITS, clock=clock,
                      sleep=clock.sleep, rng=random.Random(7), links=links)  # fmt: skip


async def test_the_tracked_text_is_what_is_split_and_a_retry_sends_the_same_links(
    database: str, per_chat: TelegramSandbox, bot: Bot, clock: Clock[datetime]
) -> None:
    assert len(PART) + 10 < TEXT_MAX < len(LINKS.rewrite(1, PART, ())[0])  # tracking makes a part too long for one
    (customer,) = await add_customers("telegram", ["7301"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "7301")], text=LONG)
    stats = await dispatcher(bot, clock).drain()
    chat = per_chat.sent(7301)
    text, buttons = LINKS.rewrite(row, LONG, [Button(**b) for b in BUTTONS])
    expected = [piece.text for piece in pieces(OutboundMessage("7301", text))]
    # pieces 2 and onwards each met the chat's limit once and went on a later attempt, rewritten the same way
    assert stats.rate_limited == len(expected) - 1 >= 3 and stats.sent == 1
    assert [m.text for m in chat] == expected and all(len(m.text or "") <= TEXT_MAX for m in chat)
    found = [url for m in chat for url in re.findall(r"\S+/l/[\w-]+", m.text or "")]
    assert found == [LINKS.url(row, 1)] * LONG.count("https://s.example/a")  # each link whole, one token
    [[shop], [stop]] = chat[-1].reply_markup["inline_keyboard"]  # type: ignore[index]
    assert shop["url"] == buttons[0].url == LINKS.url(row, 0) and "callback_data" in stop
    assert all(m.raw["link_preview_options"] == {"is_disabled": True} for m in chat)
    stored = await Delivery.get(id=row)
    assert (stored.text, stored.links_tracked, stored.status) == (LONG, True, "sent")


async def test_an_order_notice_goes_as_written_and_untracked(
    database: str, per_chat: TelegramSandbox, bot: Bot, clock: Clock[datetime]
) -> None:
    (customer,) = await add_customers("telegram", ["7401"])
    notices = await Campaign.create(key="order-notices", name="Order notices", yaml="", yaml_hash="",
                                    status="running", kind="notices")  # fmt: skip
    notice = "Your order O-1 is on its way: https://track.example/O-1"
    (row,) = await add_deliveries(int(notices.id), "telegram", [(customer, "7401")], text=notice)
    assert (await dispatcher(bot, clock).drain()).sent == 1
    [message] = per_chat.sent(7401)
    assert message.text == notice and "link_preview_options" not in message.raw
    [[shop], _] = message.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert shop["url"] == BUTTONS[0]["url"]
    assert (await Delivery.get(id=row)).links_tracked is False

"""A split message through the real aiogram bot and the Bot API sandbox enforcing Telegram's limit per chat, on a
fake clock: a 429 on piece k says which pieces went out, the next attempt sends only the rest, and the 429 names
the chat it concerns (we had just sent to it) or the whole bot (we had not)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot

from bots.telegram.app import build_bot
from bots.telegram.channel import TelegramChannel, pieces
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.ports import Button, OutboundMessage, RateLimited
from tests.fakes.clock import Clock

PHOTO = "https://shop.example/spring.jpg"
LONG = "\n\n".join(f"Paragraph {n}. " + "Spring is here. " * 200 for n in range(3))  # about 9,700 characters


@pytest.fixture
def clock() -> Clock[float]:
    return Clock(0.0)


@pytest.fixture
async def limited(telegram_spec: Path, clock: Clock[float]) -> AsyncIterator[TelegramSandbox]:
    """The sandbox answering 429 past one message a second per chat, on the test's clock."""
    async with TelegramSandbox(spec=telegram_spec, rate_limits=True, clock=clock) as sandbox:
        yield sandbox
        assert sandbox.violations == [], sandbox.violations


@pytest.fixture
async def bot(limited: TelegramSandbox) -> AsyncIterator[Bot]:
    bot = build_bot(limited.token, api_url=limited.base_url, timeout=5)
    yield bot
    await bot.session.close()


async def test_a_429_on_piece_k_resends_only_pieces_k_to_n(
    limited: TelegramSandbox, bot: Bot, clock: Clock[float]
) -> None:
    channel = TelegramChannel(bot, clock=clock)
    message = OutboundMessage("7001", LONG, (Button("Shop", url="https://shop.example/"),), campaign_id=1, step="s1")
    expected = [piece.text for piece in pieces(message)]
    assert len(expected) == 3 and pieces(message) == pieces(message)  # the same split every time
    for sent_before in (1, 2):
        with pytest.raises(RateLimited) as caught:
            await channel.send(message)
        error = caught.value
        assert len(error.sent) == sent_before and error.scope == "target"  # the chat's limit: we had just sent
        clock.advance(error.retry_after)
        message = OutboundMessage(
            message.address, message.text, message.buttons, campaign_id=1, step="s1", sent_pieces=error.sent
        )
    receipt = await channel.send(message)
    chat = limited.sent(7001)
    assert [m.text for m in chat] == expected  # each piece once, in order
    assert receipt.message_ids == tuple(str(m.message_id) for m in chat) and receipt.message_id == str(
        chat[0].message_id
    )
    assert [m.reply_markup is not None for m in chat] == [False, False, True]  # the buttons under the last piece


async def test_a_photo_and_its_pieces_resume_after_the_photo(
    limited: TelegramSandbox, bot: Bot, clock: Clock[float]
) -> None:
    channel = TelegramChannel(bot, clock=clock)
    message = OutboundMessage("7002", LONG[:3000], image_url=PHOTO)
    with pytest.raises(RateLimited) as caught:
        await channel.send(message)
    (photo,) = limited.sent(7002)
    assert photo.photo and caught.value.sent == (str(photo.message_id),) and caught.value.scope == "target"
    clock.advance(caught.value.retry_after)
    receipt = await channel.send(OutboundMessage("7002", LONG[:3000], image_url=PHOTO, sent_pieces=caught.value.sent))
    chat = limited.sent(7002)
    assert len(chat) == 2 and [m.photo for m in chat] == [photo.photo, None]  # the photo was not sent again
    assert chat[1].text == pieces(message)[1].text and receipt.message_ids == tuple(str(m.message_id) for m in chat)


async def test_a_429_after_the_chats_pace_is_the_whole_bots(
    telegram_sandbox: TelegramSandbox, telegram_bot: Bot, clock: Clock[float]
) -> None:
    channel = TelegramChannel(telegram_bot, clock=clock)
    telegram_sandbox.fail_next(429, "Too Many Requests: retry after 5", retry_after=5)
    with pytest.raises(RateLimited) as first:
        await channel.send(OutboundMessage("7003", "Hello"))  # nothing sent to the chat before: the bot's flood limit
    assert first.value.scope == "channel" and first.value.sent == ()
    await channel.send(OutboundMessage("7003", "Hello"))
    telegram_sandbox.fail_next(429, "Too Many Requests: retry after 1", retry_after=1)
    clock.advance(0.5)
    with pytest.raises(RateLimited) as soon:
        await channel.send(OutboundMessage("7003", "Again"))  # half a second after the last: the chat's limit
    assert soon.value.scope == "target"
    telegram_sandbox.fail_next(429, "Too Many Requests: retry after 1", retry_after=1)
    clock.advance(1.5)
    with pytest.raises(RateLimited) as later:
        await channel.send(OutboundMessage("7003", "Again"))  # past the chat's pace of one a second: the bot's
    assert later.value.scope == "channel"
    await channel.send(OutboundMessage("-7004", "Hello, group"))
    telegram_sandbox.fail_next(429, "Too Many Requests: retry after 3", retry_after=3)
    clock.advance(2)
    with pytest.raises(RateLimited) as group:
        await channel.send(OutboundMessage("-7004", "Again"))  # a group allows 20 a minute: 2 s is within its pace
    assert group.value.scope == "target"

"""Group chats as a shop setting, through the real aiogram bot and the Bot API sandbox (its spec checked), with the
engine and a database: the group is the customer, and the assistant hears only what is said to the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiohttp import web

from bots.inbound.acts import Inbound
from bots.telegram.app import add_webhook, build_dispatcher, register_webhook
from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.ports import InboundEvent, OutboundMessage, RecipientUnreachable, Reply
from storage.models import ChannelIdentity, ChatMessage, Customer, Event
from storage.redeliveries import StoredUpdates

HOOK_SECRET = "hook-Secret_123"
GROUP, ANN, BEN = -4001, 601, 602
BOT = "@chatcast_sandbox_bot"  # the sandbox bot's username
pytestmark = pytest.mark.usefixtures("database")


class Heard:
    """The assistant: answers every text it hears, and keeps what it heard."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    async def respond(self, event: InboundEvent, customer_id: int, message_id: int) -> Reply | None:
        self.heard.append(event.text)
        return Reply(f"You asked: {event.text}")

    async def staff_reply(self, event: InboundEvent) -> None:
        raise AssertionError("no staff here")


@pytest.fixture
def assistant() -> Heard:
    return Heard()


@pytest.fixture
async def groups(telegram_bot: Bot, assistant: Heard) -> AsyncIterator[None]:
    """The bot on its webhook with group chats allowed (CHATCAST_TELEGRAM_GROUP_CHATS=true)."""
    dispatcher = build_dispatcher(Inbound(None, responder=assistant), updates=StoredUpdates(), group_chats=True)
    app = web.Application()
    add_webhook(app, telegram_bot, dispatcher, HOOK_SECRET)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await register_webhook(telegram_bot, f"http://127.0.0.1:{runner.addresses[0][1]}/telegram/webhook", HOOK_SECRET)
    yield
    await runner.cleanup()


def texts(sandbox: TelegramSandbox, chat: int) -> list[str]:
    return [m.text or "" for m in sandbox.sent(chat)]


async def test_a_group_subscribes_gets_broadcasts_and_the_assistant_hears_only_what_is_said_to_the_bot(
    telegram_sandbox: TelegramSandbox, telegram_bot: Bot, groups: None, assistant: Heard
) -> None:
    await telegram_sandbox.user_sends(GROUP, "/start", from_id=ANN, first_name="Ann")
    group = await ChannelIdentity.get(channel="telegram", address=str(GROUP)).prefetch_related("customer")
    assert group.customer.name == "Sandbox group 4001" and group.customer.consent_source == "telegram:start"
    [welcome] = telegram_sandbox.sent(GROUP)
    assert "Welcome" in (welcome.text or "")

    await telegram_sandbox.user_sends(GROUP, "lunch at noon?", from_id=BEN, first_name="Ben")  # chatter
    lunch = telegram_sandbox.transcripts[GROUP][-1].message_id
    await telegram_sandbox.user_sends(GROUP, "sure", from_id=ANN, reply_to=lunch)  # a reply, not to the bot
    await telegram_sandbox.user_sends(GROUP, "/start@another_bot", from_id=BEN)  # a command for another bot
    await telegram_sandbox.user_sends(GROUP, "/weather", from_id=BEN)
    assert assistant.heard == [] and len(telegram_sandbox.sent(GROUP)) == 1
    assert await ChatMessage.all().count() == 0 and await Event.filter(type="opted_in").count() == 1

    await telegram_sandbox.user_sends(GROUP, f"{BOT} where is my order?", from_id=BEN)  # a mention
    await telegram_sandbox.user_sends(GROUP, "and the shipping costs?", from_id=ANN, reply_to=welcome.message_id)
    assert assistant.heard == ["where is my order?", "and the shipping costs?"]
    assert texts(telegram_sandbox, GROUP)[-2:] == [f"You asked: {said}" for said in assistant.heard]
    assert [m.text for m in await ChatMessage.all().order_by("id")] == assistant.heard
    await telegram_sandbox.user_sends(GROUP, f"/help{BOT}", from_id=BEN)
    assert "/start - Subscribe" in texts(telegram_sandbox, GROUP)[-1]

    await TelegramChannel(telegram_bot).send(OutboundMessage(str(GROUP), "Spring sale: 20% off"))  # a broadcast
    assert texts(telegram_sandbox, GROUP)[-1] == "Spring sale: 20% off"

    button = welcome.reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
    await telegram_sandbox.user_presses(GROUP, welcome.message_id, button["callback_data"], from_id=BEN)
    assert (await Customer.get(id=group.customer.id)).opted_out_at is not None  # any member may unsubscribe it
    assert "unsubscribed" in texts(telegram_sandbox, GROUP)[-1]

    await telegram_sandbox.user_sends(ANN, "/start")  # a member's own private chat is a customer of its own
    assert await ChannelIdentity.filter(channel="telegram", address=str(ANN)).exists()
    assert set(telegram_sandbox.webhook_responses) == {200}


async def test_removing_the_bot_from_a_group_is_the_group_leaving(
    telegram_sandbox: TelegramSandbox, telegram_bot: Bot, groups: None
) -> None:
    await telegram_sandbox.user_sends(GROUP, "/start", from_id=ANN)
    await telegram_sandbox.user_removes_bot(GROUP, from_id=BEN)
    group = await ChannelIdentity.get(channel="telegram", address=str(GROUP)).prefetch_related("customer")
    assert group.customer.consent_source == "telegram:removed" and not group.reachable
    (left,) = await Event.filter(type="opted_out")
    assert left.data["reason"] == "removed"
    with pytest.raises(RecipientUnreachable):  # the platform refuses the group now: no send gets through
        await TelegramChannel(telegram_bot).send(OutboundMessage(str(GROUP), "Spring sale"))
    await telegram_sandbox.user_adds_bot(GROUP, from_id=ANN)  # added again: no consent until /start
    assert (await Customer.get(id=group.customer.id)).opted_out_at is not None
    await telegram_sandbox.user_sends(GROUP, "/start", from_id=ANN)
    assert (await Customer.get(id=group.customer.id)).opted_out_at is None

"""Wiring the engine from settings: the writer (template, or the model with a key) and the chat channels."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import aiohttp
from openai import AsyncOpenAI

from bots.slack.app import SlackBot, SlackConfig, build_slack
from bots.slack.channel import shared_session
from bots.telegram.app import Bot, build_bot
from bots.telegram.channel import TelegramChannel
from campaigns.caps import Cap, Caps
from campaigns.inbound import Inbound
from campaigns.ports import Channel
from campaigns.writer import CopyWriter, OpenAIWriter
from chatcast.settings import Settings
from storage.installations import InstallationStore


def secret(value: object) -> str | None:
    """The plain value of an optional secret setting."""
    getter = getattr(value, "get_secret_value", None)
    text = getter() if getter else value
    return str(text) if text else None


def build_writer(settings: Settings, client: AsyncOpenAI | None = None) -> CopyWriter:
    """The template writer, or the model's when an OpenAI key (or a client) is given."""
    key = secret(settings.openai_api_key)
    if client is None and key:
        client = AsyncOpenAI(api_key=key, base_url=settings.openai_base_url, max_retries=2)
    writer = OpenAIWriter(client, settings.openai_model) if client is not None else None
    return CopyWriter(
        writer, mode=settings.writer_mode, banned=settings.banned_phrases, token_budget=settings.llm_token_budget
    )


@contextmanager
def tuned_gc() -> Iterator[None]:
    """For a long send: move what is loaded so far out of the collector's way (``gc.freeze``) and collect the
    young generation less often; undone after the block. aiogram, pydantic and tortoise leave hundreds of
    thousands of long-lived objects that every full collection would walk again, while a send allocates a few
    hundred short-lived ones. Measured by ``bench/dispatch.py``: about a quarter more deliveries per CPU second."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def caps(settings: Settings) -> Caps:
    """The shop's frequency cap (campaigns may set their own)."""
    return Caps(Cap(settings.frequency_cap_day, settings.frequency_cap_week, settings.frequency_cap_action))


def rates(settings: Settings) -> dict[str, float]:
    """The send rates the settings ask for, per channel."""
    return {
        "telegram": settings.telegram_rate_per_second,
        "telegram/chat": settings.telegram_chat_rate_per_second,
        "slack/chat": settings.slack_channel_rate_per_second,
    }


@dataclass
class Bots:
    """The configured chat platforms: their channels (for sending) and what receives their updates."""

    inbound: Inbound
    channels: dict[str, Channel] = field(default_factory=dict)
    telegram: Bot | None = None
    slack: SlackBot | None = None


@asynccontextmanager
async def open_bots(settings: Settings) -> AsyncIterator[Bots]:
    """The bots the settings configure (none without tokens), open for the block and closed after it."""
    bots = Bots(Inbound(secret(settings.link_secret)))
    async with AsyncExitStack() as stack:
        token = secret(settings.telegram_bot_token)
        if token:
            bot = build_bot(token, api_url=settings.telegram_api_url)
            stack.push_async_callback(bot.session.close)
            bots.telegram = bot
            bots.channels["telegram"] = TelegramChannel(
                bot, allow_paid_broadcast=settings.telegram_allow_paid_broadcast
            )
        signing = secret(settings.slack_signing_secret)
        slack_token = secret(settings.slack_bot_token)
        if signing and (slack_token or settings.slack_client_id):
            session: aiohttp.ClientSession = shared_session()
            stack.push_async_callback(session.close)
            config = SlackConfig(
                signing_secret=signing,
                bot_token=slack_token,
                client_id=settings.slack_client_id,
                client_secret=secret(settings.slack_client_secret),
                redirect_uri=settings.slack_redirect_uri,
                api_url=settings.slack_api_url,
                command=settings.slack_command,
                shop_name=settings.shop_name,
                staff_channel=settings.slack_staff_channel,
            )
            bots.slack = build_slack(config, bots.inbound, InstallationStore(), session=session)
            bots.channels["slack"] = bots.slack.channel
        yield bots


@asynccontextmanager
async def open_channels(settings: Settings) -> AsyncIterator[dict[str, Channel]]:
    """The channels the settings configure (none without tokens), open for the block and closed after it."""
    async with open_bots(settings) as bots:
        yield bots.channels

"""Telegram, declared for :mod:`bots.registry`: everything the rest of Chatcast knows about the channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bots.spec import Address, ChannelSpec, ImportColumn, Rates, SandboxCommand, Wiring
from bots.telegram import NAME
from bots.telegram.limits import LIMITS
from bots.telegram.settings import TelegramSettings

if TYPE_CHECKING:
    from bots.sandbox.rig import RigWiring
    from bots.telegram.receive import TelegramBot
    from bots.telegram.sandbox.rig import TelegramRig

WEBHOOK_PATH = "/telegram/webhook"  # where ``serve`` receives updates given a public URL


def _rates(settings: TelegramSettings) -> Rates:
    return Rates(overall=settings.telegram_rate_per_second, per_chat=settings.telegram_chat_rate_per_second)


def _chat_id(text: str) -> str | None:
    return text or None


@asynccontextmanager
async def _open(settings: TelegramSettings, wiring: Wiring) -> AsyncIterator[TelegramBot | None]:
    from bots.telegram.receive import open_bot  # aiogram: loaded only where a bot is built

    async with open_bot(settings, wiring) as bot:
        yield bot


@asynccontextmanager
async def _rig(wiring: RigWiring) -> AsyncIterator[TelegramRig]:
    from bots.telegram.sandbox.rig import open_rig

    async with open_rig(wiring) as rig:
        yield rig


def _sandbox_command() -> SandboxCommand:
    from bots.telegram.sandbox.command import command

    return command


SPEC = ChannelSpec(
    name=NAME,
    title="Telegram",
    settings=TelegramSettings,
    limits=LIMITS,
    rates=_rates,
    address=Address(example="CHAT_ID", parse=_chat_id),
    import_column=ImportColumn(column="telegram_chat_id", type=int, address=str),
    open=_open,
    rig=_rig,
    sandbox_command=_sandbox_command,
    routes=(WEBHOOK_PATH,),
    link_previewers=("TelegramBot",),  # "TelegramBot (like TwitterBot)" fetches a link for its preview
)

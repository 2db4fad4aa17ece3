"""Telegram's rig for the demo and rehearsals: the sandbox, the real bot on its webhook, and the customers'
hands in their chats (a chat id is the address)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot
from aiohttp import web

from bots.sandbox.rig import SNOOZE, STOP, Press, RigWiring, web_addresses
from bots.telegram import NAME
from bots.telegram.app import WEBHOOK_PATH, add_webhook, build_bot, build_dispatcher, register_webhook
from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.chats import SandboxMessage
from bots.telegram.sandbox.server import TelegramSandbox

HOOK_SECRET = "playground-webhook-secret"
FIRST_CHAT = 900_000_000  # new customers' chats: clear of any the shop's data holds


def _chat(address: str) -> int | None:
    return int(address) if address.lstrip("-").isdigit() else None


class TelegramRig:
    """The sandbox and the bot, as simulated customers use them."""

    name = NAME

    def __init__(self, sandbox: TelegramSandbox, bot: Bot, wiring: RigWiring) -> None:
        self.sandbox, self.bot, self.wiring = sandbox, bot, wiring
        self.channel = TelegramChannel(bot)

    def add_routes(self, app: web.Application) -> None:
        """The bot's webhook, with its secret."""
        add_webhook(app, self.bot, build_dispatcher(self.wiring.inbound), HOOK_SECRET)

    async def connect(self, root: str) -> None:
        """Register the webhook: the sandbox posts updates there."""
        await register_webhook(self.bot, root + WEBHOOK_PATH, HOOK_SECRET)

    async def join(self, n: int, token: str, first_name: str, full_name: str) -> None:
        """A new chat sends ``/start TOKEN``."""
        await self.sandbox.user_sends(FIRST_CHAT + n, f"/start {token}", first_name=first_name)

    def shows(self, address: str, message_id: str) -> bool:
        """Whether the chat holds the bot's message ``message_id``."""
        chat = _chat(address)
        if chat is None or not message_id.isdigit():
            return False
        return any(x.message_id == int(message_id) for x in self.sandbox.sent(chat))

    def said(self, address: str) -> list[str]:
        """The bot's messages in the chat."""
        chat = _chat(address)
        return [m.text or "" for m in self.sandbox.sent(chat)] if chat is not None else []

    def _buttons(self, address: str, message_id: str) -> tuple[SandboxMessage | None, list[dict[str, Any]]]:
        chat = _chat(address)
        if chat is None or not message_id.isdigit():
            return None, []
        shown = next((x for x in self.sandbox.sent(chat) if x.message_id == int(message_id)), None)
        rows = (shown.reply_markup or {}).get("inline_keyboard", []) if shown else []
        return shown, [b for row in rows for b in row]

    def button(self, address: str, message_id: str, action: str | None = None) -> Press | None:
        """The message's callback button for ``action`` (its data ends ``:action``); without one, its first that is
        neither Unsubscribe nor Not now."""
        _, buttons = self._buttons(address, message_id)
        for data in (str(b["callback_data"]) for b in buttons if "callback_data" in b):
            pressed = data.rsplit(":", 1)[-1]
            if data.startswith("a:") and (pressed == action if action else pressed not in (STOP, SNOOZE)):
                return Press(data)
        return None

    def links(self, address: str, message_id: str) -> list[str]:
        """The message's link buttons' addresses, then those in its text."""
        shown, buttons = self._buttons(address, message_id)
        text = (shown.text or shown.caption or "") if shown else ""
        return [str(b["url"]) for b in buttons if b.get("url")] + web_addresses(text)

    async def press(self, address: str, message_id: str, press: Press) -> None:
        """The customer presses the button (its callback data is the action)."""
        await self.sandbox.user_presses(int(address), int(message_id), press.action)

    async def say(self, address: str, text: str) -> None:
        """The customer writes in the chat."""
        await self.sandbox.user_sends(int(address), text)

    def block(self, address: str) -> bool:
        """The customer blocks the bot."""
        chat = _chat(address)
        if chat is None:
            return False
        self.sandbox.block(chat)
        return True


@asynccontextmanager
async def open_rig(wiring: RigWiring) -> AsyncIterator[TelegramRig]:
    """The sandbox on loopback and a bot built with its token and URL only."""
    async with TelegramSandbox() as sandbox:
        bot = build_bot(sandbox.token, api_url=sandbox.base_url, timeout=10)
        try:
            yield TelegramRig(sandbox, bot, wiring)
        finally:
            await bot.session.close()

"""``/help``: what the bot does and the commands it knows."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BotCommand, Message

from bots.telegram.handlers.common import answer, event
from campaigns.ports import Replies, Reply

COMMANDS = (
    BotCommand(command="start", description="Subscribe to offers and news"),
    BotCommand(command="stop", description="Unsubscribe"),
    BotCommand(command="language", description="Choose your language"),
    BotCommand(command="help", description="What this bot can do"),
)
HELP = (
    "I'm the shop's assistant. Ask me about products, your orders, shipping and returns, or just write.\n\n"
    + "\n".join(f"/{c.command} - {c.description}" for c in COMMANDS)
)


async def help_command(message: Message, bot: Bot, replies: Replies | None = None) -> None:
    """List the commands (a reply as any other: paced, never failing the update)."""
    await answer(bot, event(message.chat, message.from_user, "text", text="/help"), Reply(HELP), replies)


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="help")
    r.message.register(help_command, Command("help"))
    return r

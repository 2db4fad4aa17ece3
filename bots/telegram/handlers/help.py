"""``/help``: what the bot does and the commands it knows."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BotCommand, Message

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


async def help_command(message: Message) -> None:
    """List the commands."""
    await message.answer(HELP, parse_mode=None)


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="help")
    r.message.register(help_command, Command("help"))
    return r

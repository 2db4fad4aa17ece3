"""The Telegram channel: an aiogram 3 adapter (sending, routers by feature, polling and webhook), its sandbox,
and its declaration for the registry (:mod:`bots.telegram.spec`)."""

NAME = "telegram"  # the engine's name for the channel, declared once

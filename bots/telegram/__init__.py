"""The Telegram channel: an aiogram 3 adapter (sending, routers by feature, polling and webhook)."""

"""Telegram's settings: read from ``CHATCAST_TELEGRAM_*`` as part of the root's settings (a mixin of
:class:`chatcast.settings.Settings`, through :data:`bots.registry.ChannelSettings`)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from bots.telegram.limits import CHAT_RATE, FREE_RATE


class TelegramSettings(BaseModel):
    """The bot's token and webhook secret, its Bot API server, whether groups may subscribe, and its send rates."""

    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str | None = Field(default=None, description="Bot API server; default: Telegram's.")
    telegram_allow_paid_broadcast: bool = Field(
        default=False, description="Send broadcasts with allow_paid_broadcast (up to 1000 msg/s, paid in Stars)."
    )
    telegram_group_chats: bool = Field(
        default=False,
        description="Let group chats subscribe (the group is the customer); there the bot hears only commands, "
        "mentions of it and replies to it.",
    )
    telegram_rate_per_second: float = Field(default=FREE_RATE, gt=0)
    telegram_chat_rate_per_second: float = Field(default=CHAT_RATE, gt=0)

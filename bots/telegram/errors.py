"""aiogram's errors mapped onto the engine's ``ChannelError`` tree (the engine decides about retries)."""

from __future__ import annotations

from typing import Literal

from aiogram.exceptions import (
    RestartingTelegram,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from campaigns.ports import (
    AddressMigrated,
    ChannelError,
    DeliveryUncertain,
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)

# aiogram's network errors say what aiohttp raised: these come after the request was written, so Telegram may
# have carried it out; a connection that was never made (ClientConnectorError, DNS) is safe to retry
AFTER_SENDING = ("timeout", "serverdisconnected", "clientoserror", "clientpayloaderror", "connection reset",
                 "servertimeout")  # fmt: skip
UNREACHABLE = ("chat not found", "user not found", "peer_id_invalid", "have no rights to send", "not enough rights")


def channel_error(exc: Exception) -> ChannelError:
    """The ``ChannelError`` that says what ``exc`` means for the engine."""
    text = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, TelegramRetryAfter):
        return RateLimited(float(exc.retry_after), "Telegram: too many requests")
    if isinstance(exc, TelegramMigrateToChat):
        return AddressMigrated(str(exc.migrate_to_chat_id))
    if isinstance(exc, TelegramForbiddenError):
        return RecipientUnreachable(f"Telegram: {text}", left=_left(text.lower()))
    if isinstance(exc, TelegramBadRequest | TelegramNotFound) and any(m in text.lower() for m in UNREACHABLE):
        return RecipientUnreachable(f"Telegram: {text}")
    if isinstance(exc, TelegramNetworkError | TimeoutError | OSError) and _maybe_sent(exc, text):
        return DeliveryUncertain(f"Telegram: {text or type(exc).__name__}")
    if isinstance(exc, TelegramServerError | RestartingTelegram | TelegramNetworkError | TimeoutError | OSError):
        return TransientChannelError(f"Telegram: {text or type(exc).__name__}")
    if isinstance(exc, TelegramUnauthorizedError):
        return PermanentChannelError(f"Telegram: the bot token was refused ({text})")
    if isinstance(exc, TelegramAPIError):
        return PermanentChannelError(f"Telegram: {text}")
    return TransientChannelError(f"Telegram: {type(exc).__name__}: {text}")


def _maybe_sent(exc: BaseException, text: str) -> bool:
    """Whether a network failure came after the request was sent (a timeout, a dropped connection)."""
    if isinstance(exc, TimeoutError):
        return True
    said = f"{type(exc).__name__} {text}".casefold().replace(" error", "error")
    return any(marker in said for marker in AFTER_SENDING) and "clientconnector" not in said


def _left(text: str) -> Literal["blocked", "deactivated"] | None:
    """How the person left us, from a 403's description (None: only this chat is closed to the bot, e.g. kicked)."""
    if "blocked by the user" in text:
        return "blocked"
    return "deactivated" if "user is deactivated" in text else None

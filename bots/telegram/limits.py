"""Telegram's limits, declared once: what one message may hold and how fast a bot may send.

Checked against the Bot API description (``telegram_bot_api_10.1.json``) and the limits table in the shared
reference by ``tests/bots/test_registry.py``.
"""

from __future__ import annotations

from campaigns.ports import ChannelLimits

TEXT_MAX = 4096  # sendMessage.text, characters after entity parsing (a longer text goes as several messages)
CAPTION_MAX = 1024  # a photo's caption
DATA_MAX_BYTES = 64  # InlineKeyboardButton.callback_data, UTF-8 bytes
FREE_RATE = 30.0  # messages a second to all chats
PAID_RATE = 1000.0  # with allow_paid_broadcast (paid in Stars)
CHAT_RATE = 1.0  # messages a second to one chat
GROUP_PER_MINUTE = 20  # messages a minute to one group

LIMITS = ChannelLimits(
    text_max=TEXT_MAX,
    caption_max=CAPTION_MAX,
    button_data_max_bytes=DATA_MAX_BYTES,
    messages_per_second=FREE_RATE,
    per_chat_per_second=CHAT_RATE,
)

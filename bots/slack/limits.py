"""Slack's limits, declared once: Block Kit's sizes, a message's text and how fast an app may send.

Checked against the limits table in the shared reference (Block Kit and chat.postMessage, from slack_sdk's
models and Slack's docs) by ``tests/bots/test_registry.py``.
"""

from __future__ import annotations

from campaigns.ports import ChannelLimits

TEXT_MAX = 40_000  # chat.postMessage text: longer is truncated by Slack
SECTION_MAX = 3000  # a section block's text
BLOCKS_MAX = 50  # blocks in a message
HOME_BLOCKS_MAX = 100  # blocks in a view (App Home)
ACTIONS_MAX = 25  # elements in an actions block
BUTTON_TEXT_MAX = 75
HEADER_MAX = 150
URL_MAX = 3000
ALT_MAX = 2000  # an image's alt_text
ACTION_ID_MAX = 255
VALUE_MAX = 2000  # a button's value
WORKSPACE_RATE = 50.0  # messages a second the app sends (chat.postMessage is rate-limited per workspace)
CHAT_RATE = 1.0  # messages a second to one conversation

LIMITS = ChannelLimits(
    text_max=TEXT_MAX,
    caption_max=None,
    button_data_max_bytes=VALUE_MAX,
    messages_per_second=WORKSPACE_RATE,
    per_chat_per_second=CHAT_RATE,
    pause_scope="workspace",  # a 429 pauses the workspace it came from (the address's T123: part)
)

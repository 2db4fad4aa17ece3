"""The chat channels Chatcast speaks: one :class:`~bots.spec.ChannelSpec` per folder under ``bots/``.

Nothing outside a channel's folder and this module names a channel: the composition root iterates
:data:`CHANNELS` and hands their data down. To add a channel, give it a folder with a ``spec.py`` (see
``bots/telegram/spec.py``), then add its spec to :data:`CHANNELS` and its settings to :class:`ChannelSettings`
(``tests/test_architecture.py`` checks that the two agree).
"""

from __future__ import annotations

from bots.slack.settings import SlackSettings
from bots.slack.spec import SLACK
from bots.spec import ChannelSpec
from bots.telegram.settings import TelegramSettings
from bots.telegram.spec import TELEGRAM

CHANNELS: tuple[ChannelSpec, ...] = (TELEGRAM, SLACK)  # in order of preference where the order matters


class ChannelSettings(TelegramSettings, SlackSettings):
    """Every channel's settings, as one mixin of the root's settings (mypy sees each field)."""


def names() -> list[str]:
    """The channels' names, in the registry's order."""
    return [spec.name for spec in CHANNELS]


def titles() -> str:
    """The channels as people call them: ``Telegram and Slack``."""
    named = [spec.title for spec in CHANNELS]
    return ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else "".join(named)


def find(name: str) -> ChannelSpec:
    """The spec of the channel ``name``; KeyError for a name no channel has."""
    for spec in CHANNELS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def text_limits() -> dict[str, int]:
    """Each channel's longest text, for the writer."""
    return {spec.name: spec.limits.text_max for spec in CHANNELS}

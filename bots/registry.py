"""The chat channels Chatcast speaks: one :class:`~bots.spec.ChannelSpec` per folder under ``bots/``.

Nothing outside a channel's folder and this module names a channel: the composition root iterates
:data:`CHANNELS` and hands their data down. To add a channel, give it a folder whose ``spec.py`` declares
``SPEC`` (see ``bots/telegram/spec.py``) and add its folder's name to :data:`NAMES`: that one line is all.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from bots.spec import ChannelSpec

NAMES = ("telegram", "slack")  # one line per channel, in order of preference where the order matters

CHANNELS: tuple[ChannelSpec, ...] = tuple(import_module(f"bots.{name}.spec").SPEC for name in NAMES)

# Every channel's settings as one mixin of the root's settings (each channel's code reads its own fields through
# its own settings class, which mypy checks; the root reads them only through the specs).
ChannelSettings: Any = type("ChannelSettings", tuple(spec.settings for spec in CHANNELS), {})


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


def data_texts() -> dict[str, Callable[[str], str]]:
    """How each channel that needs it writes a value from data into a message, for the writer."""
    return {spec.name: spec.data_text for spec in CHANNELS if spec.data_text is not None}


def link_previewers() -> tuple[str, ...]:
    """The User-Agent words of every channel's own link fetches (previews, unfurls): no customer's clicks."""
    return tuple(word for spec in CHANNELS for word in spec.link_previewers)

"""A channel's rig: its sandbox running, the real bot wired to it, and the hands of the customers in its chats.

The demo and rehearsals (``chatcast.playground``, ``chatcast.shoppers``) open one rig per registered channel and
act only through them: a customer's press or word travels to the real bot as on the platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from campaigns.ports import Channel, InboundHandler

STOP, SNOOZE = "stop", "snooze"  # the actions of Unsubscribe and Not now: no interest in the message
_WEB = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")  # an address a reader sees (and taps) in a text


def web_addresses(text: str) -> list[str]:
    """The web addresses in a message's text, as a reader sees them, in order."""
    return _WEB.findall(text)


@dataclass(frozen=True)
class RigWiring:
    """What a rig is opened with: where the bot hands what customers do, the shop's name, and the chats of this
    channel the shop already knows (their addresses), so that the sandbox has them."""

    inbound: InboundHandler
    shop_name: str
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Press:
    """A button a customer can press: its action, the value it carries, and the message as the chat shows it."""

    action: str
    value: str | None = None
    message: object | None = field(default=None, compare=False)


class Rig(Protocol):
    """One channel's sandbox and bot, as the simulated customers use them."""

    @property
    def name(self) -> str:
        """The channel's name."""
        ...

    @property
    def channel(self) -> Channel:
        """The engine's channel, through the sandbox."""
        ...

    def add_routes(self, app: web.Application) -> None:
        """Where the sandbox posts what customers do (the bot's webhook or event routes)."""
        ...

    async def connect(self, root: str) -> None:
        """``app`` is served at ``root``: point the sandbox at its routes."""
        ...

    async def join(self, n: int, token: str, first_name: str, full_name: str) -> None:
        """The ``n``-th new customer follows the shop's deep link with ``token`` from a new chat."""
        ...

    def shows(self, address: str, message_id: str) -> bool:
        """Whether the chat shows the bot's message ``message_id``."""
        ...

    def said(self, address: str) -> list[str]:
        """The texts of the bot's messages in the chat, in order."""
        ...

    def button(self, address: str, message_id: str, action: str | None = None) -> Press | None:
        """The message's action button (not a link) for ``action``, as the chat shows it; without one, its first
        action button of interest (neither Unsubscribe nor Not now)."""
        ...

    def links(self, address: str, message_id: str) -> list[str]:
        """The web addresses the message shows: its link buttons', then those in its text."""
        ...

    async def press(self, address: str, message_id: str, press: Press) -> None:
        """The customer presses the button."""
        ...

    async def say(self, address: str, text: str) -> None:
        """The customer writes ``text`` to the bot."""
        ...

    def block(self, address: str) -> bool:
        """The customer blocks the bot (or leaves); False for an address the sandbox cannot have."""
        ...

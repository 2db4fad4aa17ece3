"""What a channel declares, once, in its own folder (``bots/<channel>/spec.py``): a :class:`ChannelSpec`.

:mod:`bots.registry` lists them; the composition root (``chatcast/``) iterates the registry and hands the plain
data (names, text limits, import columns) to the packages below it, which never name a channel. A spec module
is cheap to import: the channel's SDK is loaded only inside ``open``, ``rig`` and ``sandbox_command``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from campaigns.ports import (
    Channel,
    ChannelLimits,
    InboundHandler,
    Redeliveries,
    Replies,
    StaffAlerts,
    WorkspaceStore,
)

if TYPE_CHECKING:  # both load aiohttp: a spec stays cheap for the CLI, which reads the registry at start
    from aiohttp import web

    from bots.sandbox.rig import Rig, RigWiring


# the platform's key of the update being handled (set by the adapter's middleware, read where its events are made):
# the engine records it in the transaction of the update's effects, so that a redelivery does nothing
CURRENT_UPDATE: ContextVar[str | None] = ContextVar("chatcast_current_update", default=None)


def secret(value: object) -> str | None:
    """The plain value of an optional secret setting (``SecretStr`` or text), None when unset or empty."""
    getter = getattr(value, "get_secret_value", None)
    text = getter() if getter else value
    return str(text) if text else None


@dataclass(frozen=True)
class Address:
    """How a person writes one of the channel's chats after ``NAME:`` (``--to``), and how that becomes the
    engine's address."""

    example: str
    parse: Callable[[str], str | None]  # None: not a chat of this channel


@dataclass(frozen=True)
class ImportColumn:
    """The customers file's column that links a customer to a chat of the channel."""

    column: str
    type: Any  # the cell's pydantic type: a bad cell is refused with the row's usual error
    address: Callable[[Any], str]  # a valid cell as the engine's address


@dataclass(frozen=True)
class Rates:
    """The send rates a channel's settings ask for, messages per second; None: the channel's own limit."""

    overall: float | None = None
    per_chat: float | None = None


@dataclass(frozen=True)
class Wiring:
    """What the composition root gives a channel to open it: where inbound events go, where per-workspace
    credentials are kept, the shop's name, where updates are recorded by their platform id (so that a
    redelivery does nothing), and how replies are sent."""

    inbound: InboundHandler
    workspaces: WorkspaceStore
    shop_name: str = "our shop"
    updates: Redeliveries | None = None
    replies: Replies | None = None  # how answers go out (paced, errors mapped, queued); None: sent directly


class Receiver(Protocol):
    """How ``serve`` receives one channel's updates, once started."""

    mode: str  # what /health says: polling, webhook, http, socket

    async def listening(self, public_url: str | None) -> None:
        """The server listens: tell the platform where to post, if it needs telling."""
        ...

    async def stop(self) -> None:
        """Stop receiving and close what receiving opened."""
        ...


class ChannelBot(Protocol):
    """One configured channel, open: the engine's channel, the staff alerts it hosts (if any), and receiving."""

    @property
    def channel(self) -> Channel:
        """Sends the engine's messages."""
        ...

    @property
    def staff(self) -> StaffAlerts | None:
        """Where alerts and hand-offs go, when the shop's people work in this channel."""
        ...

    async def receive(self, app: web.Application, *, public_url: str | None, redis_url: str | None) -> Receiver:
        """Start receiving updates: routes on ``app`` (the ``routes`` of the spec), polling, or a socket."""
        ...


SandboxCommand = Callable[..., tuple[str, Coroutine[Any, Any, None]]]


@dataclass(frozen=True)
class ChannelSpec:
    """Everything about one chat channel that the rest of Chatcast needs, declared in the channel's folder."""

    name: str  # the engine's name: ChannelIdentity.channel, campaign files, rate keys
    title: str  # how people call it
    settings: type[BaseModel]  # its settings (fields named ``<name>_*``, read from CHATCAST_<NAME>_*)
    limits: ChannelLimits  # text, caption, button data and the default send rates
    rates: Callable[[Any], Rates]  # the send rates its settings ask for
    address: Address
    import_column: ImportColumn
    open: Callable[[Any, Wiring], AbstractAsyncContextManager[ChannelBot | None]]  # None: not configured
    rig: Callable[[RigWiring], AbstractAsyncContextManager[Rig]]  # its sandbox with the real bot wired to it
    sandbox_command: Callable[[], SandboxCommand]  # ``chatcast sandbox NAME``: its options are the parameters
    routes: tuple[str, ...] = field(default=())  # the paths its receiver serves in ``serve``'s web app
    # how a value from data (a name, a product, an offer) is written into a message template for this channel so
    # that it shows as it is, where the channel's text format would read it as formatting (Slack's mrkdwn: ``*Pro*``
    # is bold); None: values need nothing (the adapter escapes the whole text, as Telegram's HTML mode does)
    data_text: Callable[[str], str] | None = None
    # the User-Agent words of the platform's own fetches of a link in a message (to show its preview): no
    # customer's click, so a tracked link does not count them
    link_previewers: tuple[str, ...] = field(default=())

"""The contract between the engine and the chat channels: messages out, events in, and what can go wrong.

An adapter (``bots/telegram``, ``bots/slack``) implements :class:`Channel`, maps its SDK's errors onto the
:class:`ChannelError` tree and never retries by itself: whether and when to retry is the engine's rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from storage.errors import ChatcastError

InboundKind = Literal["start", "stop", "text", "click", "language", "home", "staff"]


@dataclass(frozen=True)
class Button:
    """A button under a message: a link (``url``) or an action the channel reports back (``action``)."""

    text: str
    url: str | None = None
    action: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one chat address; ``idempotency_key`` names it for the engine's exactly-once rule.
    ``image_url``: a public https picture sent with it (the text its caption), ``image_alt`` its words for people
    who cannot see it.

    ``sent_pieces``: the platform's ids of the pieces of this message that earlier attempts already delivered (a
    long text goes as several messages): the channel sends only the pieces after them, split the same way.

    ``link_previews`` False: the chat should not show previews of the text's links, where the channel can say so
    (a campaign's links are tracked redirects, and a platform fetching one for its preview is no customer's click).
    """

    address: str
    text: str
    buttons: tuple[Button, ...] = ()
    image_url: str | None = None
    campaign_id: int | None = None
    step: str | None = None
    idempotency_key: str | None = None
    image_alt: str | None = None
    sent_pieces: tuple[str, ...] = ()
    link_previews: bool = True


@dataclass(frozen=True)
class SendReceipt:
    """What the channel answered: its id for the message (or ids, when the text was split: every piece's, those
    of earlier attempts included)."""

    message_ids: tuple[str, ...]
    sent_at: datetime
    address: str

    @property
    def message_id(self) -> str:
        """The id of the first (or only) message."""
        return self.message_ids[0]


@dataclass(frozen=True)
class InboundEvent:
    """Something a customer did in a chat: started, stopped, wrote, pressed, chose a language, opened the app's home.

    ``home`` asks only for the chat's subscription state (Slack's App Home): the reply's buttons say it.
    ``staff`` is a person of the shop writing in a hand-off thread (``payload["thread"]`` names it), not a customer.
    """

    channel: str
    address: str
    kind: InboundKind
    text: str = ""
    payload: dict[str, str] = field(default_factory=dict)
    user_name: str | None = None
    language: str | None = None
    at: datetime | None = None
    update: str | None = None  # the platform's id of the update it came in (bot or workspace included), if any


@dataclass(frozen=True)
class Reply:
    """What the engine answers a customer in the chat they wrote from (empty text: nothing to say)."""

    text: str
    buttons: tuple[Button, ...] = ()


class InboundHandler(Protocol):
    """The engine side of a chat: takes what a customer did, returns what to answer."""

    async def handle(self, event: InboundEvent) -> Reply | None:
        """Record ``event`` and decide the answer."""
        ...


class Redeliveries(Protocol):
    """Inbound updates by their platform id (Telegram's ``update_id`` per bot, Slack's ``event_id`` per
    workspace): platforms redeliver whenever a webhook answers late or not 2xx, and a redelivery must do nothing.

    The engine records an update in the transaction of its effects (:attr:`InboundEvent.update`); an adapter asks
    :meth:`seen` before it handles one, and records those that had no effect in the engine itself."""

    async def seen(self, channel: str, key: str) -> bool:
        """Whether ``key`` was handled before."""
        ...

    async def record(self, channel: str, key: str) -> bool:
        """Record ``key`` (in the caller's transaction, if any); False where it was recorded before."""
        ...


class Replies(Protocol):
    """How the answer to a customer reaches their chat: through the same pace and error rules as every other
    send (per chat and overall limits, retry-after honoured, a block is an opt-out), queued when it must wait.
    It never raises for a failed send: the update that asked for it is handled either way."""

    async def send(self, event: InboundEvent, reply: Reply | None) -> None:
        """Send ``reply`` (nothing when None or empty) to the chat ``event`` came from."""
        ...


class WorkspaceStore(Protocol):
    """Where credentials a platform issues per workspace are kept (Slack's OAuth installations), and whether the
    app is still installed there: storage's job."""

    async def save(self, channel: str, workspace: str, data: dict[str, Any]) -> None:
        """Keep ``data`` for ``workspace``, replacing what was there; the workspace is active (again)."""
        ...

    async def load(self, channel: str, workspace: str) -> dict[str, Any] | None:
        """What was saved for ``workspace``, or None (never saved, or inactive)."""
        ...

    async def delete(self, channel: str, workspace: str) -> None:
        """Forget ``workspace``."""
        ...

    async def deactivate(self, channel: str, workspace: str, *, scope: str, reason: str, at: datetime) -> bool:
        """The app is no longer installed in ``workspace`` (``reason``): nothing is sent to the chats whose address
        starts with ``scope`` until it is active again; False if it was inactive already."""
        ...

    async def activate(self, channel: str, workspace: str) -> bool:
        """The app works in ``workspace`` again (a reinstall); False if it was not inactive."""
        ...

    async def inactive(self, channel: str, workspace: str) -> str | None:
        """Why the app is no longer installed in ``workspace``; None where it is, or was never heard of."""
        ...

    async def inactive_workspaces(self, channel: str) -> list[str]:
        """The channel's workspaces that no longer have the app."""
        ...


class StaffAlerts(Protocol):
    """Where the engine and the assistant tell the shop's people something: alerts and hand-offs."""

    async def alert(self, text: str, *, link: str | None = None) -> str | None:
        """Post ``text`` (plain text, escaped by the channel) to the staff, with an optional link; the reference of
        the thread it starts (where staff replies arrive as ``staff`` events), if the channel has threads."""
        ...

    async def post(self, thread: str, text: str) -> None:
        """Add ``text`` to a thread that :meth:`alert` started."""
        ...


class Responder(Protocol):
    """Who answers customers' words and staff replies: the shop assistant."""

    async def respond(self, event: InboundEvent, customer_id: int, message_id: int) -> Reply | None:
        """The answer to a customer's text (already recorded as chat message ``message_id``), or None."""
        ...

    async def staff_reply(self, event: InboundEvent) -> None:
        """A person of the shop wrote in a hand-off thread."""
        ...


@dataclass(frozen=True)
class ChannelLimits:
    """What a channel accepts: message sizes and send rates; ``pause_scope``: what a 429 about one address pauses,
    its ``chat`` (the address) or its ``workspace`` (the address up to its first ``:``)."""

    text_max: int
    caption_max: int | None
    button_data_max_bytes: int | None
    messages_per_second: float
    per_chat_per_second: float
    pause_scope: Literal["chat", "workspace"] = "chat"

    def pause_key(self, address: str) -> str:
        """The target a :class:`RateLimited` with ``scope="target"`` pauses, for a send to ``address``."""
        return address.split(":", 1)[0] if self.pause_scope == "workspace" else address


@runtime_checkable
class Channel(Protocol):
    """A chat platform the engine can send through."""

    name: str
    limits: ChannelLimits

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Deliver ``message`` or raise a :class:`ChannelError`."""
        ...


DELIVERY_EVENT = "chatcast_delivery"  # the type of the metadata a channel that can carry it puts on each message


@dataclass(frozen=True)
class Uncertain:
    """A delivery whose send may or may not have reached the platform (an ``unknown`` row): its id (its message's
    ``idempotency_key`` was ``delivery:<id>``), its chat address, and when it was claimed: its request was made after
    that moment."""

    id: int
    address: str
    claimed_at: datetime


@runtime_checkable
class Reconciler(Protocol):
    """What a channel whose messages carry their delivery's id (Slack's message metadata) adds to :class:`Channel`:
    looking a delivery up on the platform, so that an ``unknown`` row becomes ``sent`` or certainly not sent."""

    async def find(self, rows: Sequence[Uncertain]) -> dict[int, SendReceipt | None]:
        """What the platform shows of each row, by id: a receipt (the message is there: its id and when it was
        posted); None (it is not there, and everything posted in the chat since a little before its claim was
        looked at); no entry (it cannot be told now: the chat's history could not be read, or not all of it)."""
        ...


class ChannelError(ChatcastError):
    """A send failed; the subclass says what the engine should do about it. ``sent``: the ids of the pieces of a
    split message that did go out before the failure (earlier attempts' included), in order; the engine keeps them
    with the row, so that a retry sends only the rest."""

    sent: tuple[str, ...] = ()

    def after(self, sent: tuple[str, ...]) -> ChannelError:
        """This error, noting the pieces that went out before it."""
        self.sent = sent
        return self


class RateLimited(ChannelError):
    """The platform asked us to slow down: retry after ``retry_after`` seconds. ``scope`` says what it paused:
    the send's ``target`` (its chat or workspace: :meth:`ChannelLimits.pause_key`), or the whole ``channel``
    (the bot or app as a whole; the safe default when the platform does not say)."""

    def __init__(
        self, retry_after: float, message: str = "rate limited", *, scope: Literal["target", "channel"] = "channel"
    ) -> None:
        super().__init__(f"{message} (retry after {retry_after:g}s)")
        self.retry_after, self.scope = retry_after, scope


class RecipientUnreachable(ChannelError):
    """The customer blocked the bot, left, or the address no longer exists: stop sending to it. ``left`` says how
    the person left us (``blocked`` the bot, or their account ``deactivated``), which opts them out; None for an
    address that is wrong or gone."""

    def __init__(
        self, message: str = "recipient unreachable", *, left: Literal["blocked", "deactivated"] | None = None
    ) -> None:
        super().__init__(message)
        self.left = left

    @property
    def gone(self) -> bool:
        """Whether the person left (not merely the address)."""
        return self.left is not None


class TransientChannelError(ChannelError):
    """A network error, a timeout or a server error: retrying later may work."""


class DeliveryUncertain(ChannelError):
    """The request may have reached the platform and been carried out (it timed out, or the connection dropped
    after it was sent): sending it again could deliver it twice, so the engine does not retry."""


class PermanentChannelError(ChannelError):
    """The platform refused this message as it is: retrying the same message will not help."""


class ChannelUninstalled(PermanentChannelError):
    """The app is no longer installed where the chat lives (a Slack workspace removed it, or refuses its token): no
    send to that workspace can work until it is reinstalled. It is the workspace's doing, not the customer's: nobody's
    consent changes, and the row is parked, not failed. ``workspace`` is the channel's key of the installation,
    ``scope`` the address prefix every chat of it shares (Slack: ``T123:``), ``reason`` the platform's word."""

    def __init__(self, workspace: str, scope: str, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"the app is no longer installed in workspace {workspace} ({reason})")
        self.workspace, self.scope, self.reason = workspace, scope, reason


class AddressMigrated(PermanentChannelError):
    """The chat moved to a new address (Telegram group upgraded to a supergroup): resend there."""

    def __init__(self, new_address: str) -> None:
        super().__init__(f"the chat moved to {new_address}")
        self.new_address = new_address

"""How the engine's answers reach the chats (:class:`campaigns.ports.Replies`).

:class:`QueuedReplies` (``serve``): a reply is an outbox row of the built-in chat-replies campaign
(:mod:`storage.replies`), one per update, and the dispatcher sends it at once when the chat's pace allows, or
later when it does: the same limits, retry-after, error mapping and opt-out on a block as any campaign message.
Nothing the platform answers makes the update fail, so a webhook is acknowledged once the update is recorded.

:class:`DirectReplies`: sent at once through the channel, a failure logged (a bot run without the engine's
dispatcher: the sandboxes' rigs, tests of one adapter).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from campaigns.ports import Button, Channel, ChannelError, InboundEvent, OutboundMessage, Reply
from storage import replies as store

log = logging.getLogger(__name__)


class ReplySender(Protocol):
    """Who sends queued rows on demand: the dispatcher (:meth:`campaigns.delivery.dispatcher.Dispatcher.send_now`)."""

    async def send_now(self, ids: Sequence[int]) -> None:
        """Send these outbox rows now where their chats' pace allows; the rest stay queued for later."""
        ...


def buttons_data(buttons: Sequence[Button]) -> list[dict[str, str]]:
    """Buttons as the outbox keeps them."""
    return [{k: v for k, v in (("text", b.text), ("url", b.url), ("action", b.action)) if v} for b in buttons]


Texts = Mapping[str, Callable[[str], str]]


def plain_text(texts: Texts, channel: str, text: str) -> str:
    """A reply's text as ``channel`` must be given plain text (Slack's markers quoted: a reply never formats)."""
    write = texts.get(channel)
    return write(text) if write is not None else text


class DirectReplies:
    """Replies sent at once through the channel of the chat; a failure is logged, never raised. ``texts``: how
    each channel that needs it is given plain text (:func:`bots.registry.data_texts`)."""

    def __init__(self, channels: Mapping[str, Channel], texts: Texts | None = None) -> None:
        self.channels, self.texts = dict(channels), dict(texts or {})

    async def send(self, event: InboundEvent, reply: Reply | None) -> None:
        """Send ``reply`` to ``event``'s chat now."""
        if reply is None or not reply.text or event.channel not in self.channels:
            return
        text = plain_text(self.texts, event.channel, reply.text)
        message = OutboundMessage(event.address, text, reply.buttons)
        try:
            await self.channels[event.channel].send(message)
        except ChannelError as exc:
            log.warning("reply to a %s chat not sent: %s", event.channel, exc)


class QueuedReplies:
    """Replies through the outbox (see the module docstring); ``sender`` is attached once the dispatcher runs,
    and until then the rows wait queued. A chat that is no customer's (a button pressed before /start) has no row
    to keep: its reply goes directly through ``channels``, once."""

    def __init__(self, clock: Callable[[], datetime] | None = None, texts: Texts | None = None) -> None:
        self.sender: ReplySender | None = None
        self.texts = dict(texts or {})
        self.direct = DirectReplies({}, self.texts)
        self._clock = clock or (lambda: datetime.now(UTC))

    def attach(self, sender: ReplySender, channels: Mapping[str, Channel]) -> None:
        """Send through ``sender`` (the dispatcher) from now on, and to strangers through ``channels``."""
        self.sender, self.direct = sender, DirectReplies(channels, self.texts)

    async def send(self, event: InboundEvent, reply: Reply | None) -> None:
        """Queue ``reply`` for ``event``'s chat and send it now if its pace allows; never raises."""
        if reply is None or not reply.text:
            return
        try:
            text = plain_text(self.texts, event.channel, reply.text)
            row = await store.queue(
                event.channel, event.address, text, buttons_data(reply.buttons), update=event.update, now=self._clock()
            )
            if row is None:
                await self.direct.send(event, reply)
            elif self.sender is not None:
                await self.sender.send_now([row])
        except Exception:  # the update stays handled; the row, if queued, is the dispatcher's to send
            log.exception("the reply to a %s chat could not be sent now", event.channel)

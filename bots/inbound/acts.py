"""What the engine does when someone acts in a chat: opt in (maybe by a shop link), opt out, press, choose, write.

The channel adapters translate their updates into :class:`~campaigns.ports.InboundEvent` and send back the
:class:`Reply`, if any. Every reply is about the chat's own customer only, and no more than it needs.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bots.inbound.links import read_token
from bots.inbound.optout import is_opt_out
from campaigns.notices.queue import switch_notices
from campaigns.notices.text import switch as notice_switch
from campaigns.ports import Button, InboundEvent, Reply, Responder
from storage import clicks, conversations, identities, outbox, redeliveries
from storage.errors import ChatcastError
from storage.models import ChannelIdentity, Customer

STOP, SNOOZE, OPEN = "stop", "snooze", "open"  # Unsubscribe, Not now, and a link button's press (where reported)
UNSUBSCRIBE = Button(text="Unsubscribe", action=STOP)
SUBSCRIBE = Button(text="Subscribe", action="start")
_HOW_TO_STOP = "Send /stop or press Unsubscribe at any time and we'll stop."
WELCOME = f"Welcome! You'll get news and offers from us in this chat. {_HOW_TO_STOP}"
LINKED = f"Welcome! This chat is now linked to your account with us. {_HOW_TO_STOP}"
BAD_LINK = (
    "Welcome! The link you followed could not be used (it may have expired), so this chat is not linked "
    f"to an account; ask us for a new link. You'll get news and offers from us here. {_HOW_TO_STOP}"
)
HOME_SUBSCRIBED = "You're subscribed to news and offers from us here. Unsubscribe at any time."
HOME_UNSUBSCRIBED = "You're not subscribed. Subscribe to get news and offers from us here; you can stop at any time."
STOPPED = "You're unsubscribed: we won't send you news or offers any more. Send /start to subscribe again."
START_FIRST = "Please send /start first, then choose your language."
LANGUAGE_SET = "Done: we'll write to you in {language} from now on."
LANGUAGE_UNKNOWN = "Sorry, that is not a language code we know (for example en, de or pt-BR)."
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}")
_T = TypeVar("_T")
REPLY_DAYS = 7  # a customer's words within this long of a campaign message are a reply to it


class _Redelivered(ChatcastError):
    """The update was handled before: its redelivery does nothing."""


def _language(code: str | None) -> str | None:
    return code if code and len(code) <= 16 and _LANGUAGE.fullmatch(code) else None


class Inbound:
    """The engine's :class:`~campaigns.ports.InboundHandler`: chat events become customers, consent and events."""

    def __init__(
        self,
        link_secret: str | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        link_max_age: timedelta = timedelta(days=30),
        responder: Responder | None = None,
    ) -> None:
        self._link_secret = link_secret
        self._clock = clock
        self._link_max_age = link_max_age
        self.responder = responder  # the shop assistant: answers words, hears staff replies (set by the root)
        self._handlers: dict[str, Callable[[InboundEvent, datetime], Awaitable[Any]]] = {
            "start": self._start,
            "stop": self._stop,
            "click": self._click,
            "language": self._language,
            "text": self._text,
            "home": self._home,
        }

    async def handle(self, event: InboundEvent) -> Reply | None:
        """Record what ``event`` means, in one transaction with its :attr:`~InboundEvent.update` (a redelivery of
        an update handled before does nothing and gets no answer); the reply for the chat, or None for none."""
        try:
            return await self._handle(event)
        except _Redelivered:
            return None

    async def _handle(self, event: InboundEvent) -> Reply | None:
        if event.kind == "staff":
            if event.update and not await redeliveries.record(event.channel, event.update):
                return None
            if self.responder is not None:
                await self.responder.staff_reply(event)
            return None
        if event.kind == "text" and (on := notice_switch(event.text)) is not None:  # order notices, not marketing
            return await self._recorded(lambda e, now: switch_notices(e, on, now), event, self._clock())
        if event.kind == "text" and is_opt_out(event.text):
            event = replace(event, kind="stop")
        handler = self._handlers.get(event.kind)
        if handler is None:
            return None
        now = self._clock()
        if event.kind == "home":  # only reads: nothing to record, and it may follow a press in the same update
            return await self._home(event, now)
        if event.kind == "text":
            customer_id, message_id = await self._recorded(self._text, event, now)
            if self.responder is None:
                return None
            return await self.responder.respond(event, customer_id, message_id)  # outside the transaction: slow
        return await self._recorded(handler, event, now)

    async def _recorded(self, handler: Callable[[InboundEvent, datetime], Awaitable[_T]], event: InboundEvent,
                        now: datetime) -> _T:  # fmt: skip
        """``handler``'s work in one transaction with the update's record, run again when another did the same chat
        at the same moment."""
        try:
            async with identities.transaction():
                return await self._once(handler, event, now)
        except identities.Conflict:
            # the same chat was handled twice at once (a webhook retry): this run now finds the other's rows
            async with identities.transaction():
                return await self._once(handler, event, now)

    @staticmethod
    async def _once(handler: Callable[[InboundEvent, datetime], Awaitable[_T]], event: InboundEvent,
                    now: datetime) -> _T:  # fmt: skip
        if event.update and not await redeliveries.record(event.channel, event.update):
            raise _Redelivered  # out of the transaction, which then writes nothing
        return await handler(event, now)

    async def _start(self, event: InboundEvent, now: datetime) -> Reply:
        token = event.payload.get("token", "")
        customer = await self._linked_customer(token, now) if token else None
        if customer is not None:
            identity = await identities.link(customer, event.channel, event.address)
            source, text = "link", LINKED
        else:
            identity = await identities.find(event.channel, event.address) or await self._new_customer(event)
            source, text = "start", BAD_LINK if token else WELCOME
        left = identity.customer.consent_source if _opted_out(identity.customer) else None
        await identities.opt_in(identity, at=now, source=f"{event.channel}:{source}")
        data = {"channel": event.channel, "source": source}
        if left:
            data["after"] = left  # back after an opt-out (e.g. telegram:blocked): new consent, given now
        await identities.add_event("opted_in", at=now, customer_id=identity.customer.id, data=data)
        return Reply(text, (UNSUBSCRIBE,))

    async def _linked_customer(self, token: str, now: datetime) -> Customer | None:
        if not self._link_secret:
            return None
        external_id = read_token(token, self._link_secret, now=now, max_age=self._link_max_age)
        return await identities.customer_by_external_id(external_id) if external_id else None

    async def _new_customer(self, event: InboundEvent) -> ChannelIdentity:
        name, language = event.user_name or "", _language(event.language) or "en"
        return await identities.create_chat_customer(event.channel, event.address, name=name, language=language)

    async def _stop(
        self,
        event: InboundEvent,
        now: datetime,
        campaign_id: int | None = None,
        delivery_id: int | None = None,
        step: str | None = None,
    ) -> Reply:
        """Opt the chat's customer out (once: an ``opted_out`` event); from a campaign message's Unsubscribe button,
        the event names that message (``campaign_id``, ``delivery_id``, ``step``, ``via`` button)."""
        if left := event.payload.get("left"):  # the platform says they blocked the bot: nothing can be said
            await self._left(event, now, left)
            return Reply("")
        identity = await identities.find(event.channel, event.address)
        if identity is not None and not _opted_out(identity.customer):
            await identities.opt_out(identity.customer.id, at=now)
            data = {"channel": event.channel} | ({"step": step, "via": "button"} if step is not None else {})
            await identities.add_event(
                "opted_out", at=now, customer_id=identity.customer.id, campaign_id=campaign_id,
                delivery_id=delivery_id, data=data,
            )  # fmt: skip
        return Reply(STOPPED)

    async def _left(self, event: InboundEvent, now: datetime, reason: str) -> None:
        """The customer left the chat (blocked the bot), as the platform told us: they leave as a send meeting the
        block would find (:func:`storage.outbox.customer_left`)."""
        identity = await identities.find(event.channel, event.address)
        if identity is not None:
            error = f"{event.channel}: the customer {reason} the bot"
            await outbox.customer_left(
                event.channel, event.address, identity.customer.id, reason=reason, error=error, at=now
            )

    async def _click(self, event: InboundEvent, now: datetime) -> Reply | None:
        """A button pressed, recorded by its meaning: ``stop`` opts out (an ``opted_out`` event, no click), ``snooze``
        is a ``snoozed`` event, any other action is a ``clicked`` one. A link button's press that the platform reports
        (``open``) is a click only where the message's links were not tracked: else the redirect counts it."""
        identity = await identities.find(event.channel, event.address)
        action = event.payload.get("action", "")
        if identity is None:
            return Reply(STOPPED) if action == STOP else None
        step, campaign = event.payload.get("step", ""), event.payload.get("campaign_id", "")
        customer_id = identity.customer.id
        campaign_id, delivery_id = await identities.click_target(campaign, step, customer_id)
        if action == STOP:
            return await self._stop(event, now, campaign_id, delivery_id, step)
        if action == OPEN and delivery_id is not None and await clicks.links_tracked(delivery_id):
            return None  # the link went out as a tracked redirect: its opening is counted there, once
        data = {"step": step, "action": action, "channel": event.channel, "via": "link" if action == OPEN else "button"}
        if action == OPEN and event.payload.get("url"):
            data["url"] = event.payload["url"]  # the link as the platform reports it opened (as sent: untracked)
        await identities.add_event(
            "snoozed" if action == SNOOZE else "clicked",
            at=now, customer_id=customer_id, campaign_id=campaign_id, delivery_id=delivery_id, data=data,
        )  # fmt: skip
        return None

    async def _language(self, event: InboundEvent, now: datetime) -> Reply:
        identity = await identities.find(event.channel, event.address)
        if identity is None:
            return Reply(START_FIRST)
        language = _language(event.payload.get("language"))
        if language is None:
            return Reply(LANGUAGE_UNKNOWN)
        await identities.set_language(identity.customer.id, language)
        return Reply(LANGUAGE_SET.format(language=language))

    async def _home(self, event: InboundEvent, now: datetime) -> Reply:
        # only reads: opening a home screen is not consent, and makes no customer
        identity = await identities.find(event.channel, event.address)
        if identity is not None and _subscribed(identity.customer):
            return Reply(HOME_SUBSCRIBED, (UNSUBSCRIBE,))
        return Reply(HOME_UNSUBSCRIBED, (SUBSCRIBE,))

    async def _text(self, event: InboundEvent, now: datetime) -> tuple[int, int]:
        """Keep the words and a ``replied`` event (on the campaign message they answer, if any); the ids."""
        # a chat that writes before /start becomes a customer, without consent: consent needs /start
        identity = await identities.find(event.channel, event.address) or await self._new_customer(event)
        customer_id = identity.customer.id
        message = await identities.add_chat_message(
            customer_id, channel=event.channel, role="customer", text=event.text, at=now
        )
        answered = await conversations.last_campaign_message(
            customer_id, event.channel, now - timedelta(days=REPLY_DAYS)
        )
        await identities.add_event(
            "replied", at=now, customer_id=customer_id, data={"channel": event.channel},
            campaign_id=answered.campaign_id if answered else None, delivery_id=answered.id if answered else None,
        )  # fmt: skip
        return customer_id, message.id


def _subscribed(customer: Customer) -> bool:
    given, out = customer.opted_in_at, customer.opted_out_at
    return given is not None and (out is None or given > out)


def _opted_out(customer: Customer) -> bool:
    out, given = customer.opted_out_at, customer.opted_in_at
    return out is not None and (given is None or out >= given)

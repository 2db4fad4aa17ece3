"""Chat identities and what customers do in chats: linking, consent, events, messages, reachability.

The functions run on the current connection: inside :func:`transaction` they share its transaction
(tortoise routes every query of the task to it).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from storage.errors import ChatcastError
from storage.models import Campaign, ChannelIdentity, ChatMessage, Customer, Delivery, Event, Order

_ID_MAX = 64  # Customer.external_id
_BIGINT_MAX = 2**63 - 1


class Conflict(ChatcastError):
    """Another writer changed the same chat at the same moment: run the whole unit of work again."""


@asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """One transaction for the block; a unique-key clash inside it is raised as :class:`Conflict`."""
    try:
        async with in_transaction():
            yield
    except IntegrityError as exc:
        raise Conflict(str(exc)) from exc


def _text(value: str) -> str:
    # PostgreSQL's text and jsonb cannot hold NUL, whatever a client sends: keep the rest as written
    return value.replace("\x00", "\ufffd")


def chat_external_id(channel: str, address: str) -> str:
    """The external id of a customer the shop did not know, first met in a chat."""
    external_id = f"{channel}:{address}"
    if len(external_id) > _ID_MAX:
        external_id = f"{channel}:{hashlib.sha256(address.encode()).hexdigest()[:40]}"
    return external_id


async def find(channel: str, address: str) -> ChannelIdentity | None:
    """The identity of one chat address, with its customer loaded."""
    return await ChannelIdentity.get_or_none(channel=channel, address=address).select_related("customer")


async def customer_by_external_id(external_id: str) -> Customer | None:
    """The customer the shop knows by ``external_id``."""
    return await Customer.get_or_none(external_id=external_id)


async def create_chat_customer(channel: str, address: str, *, name: str, language: str) -> ChannelIdentity:
    """A new customer met in a chat (no consent yet) and its identity."""
    customer = await Customer.create(
        external_id=chat_external_id(channel, address), name=_text(name)[:200], language=_text(language)[:16]
    )
    return await ChannelIdentity.create(customer=customer, channel=channel, address=address)


async def link(customer: Customer, channel: str, address: str) -> ChannelIdentity:
    """Give ``address`` to ``customer``: create its identity or move it, folding in a chat-made customer."""
    identity = await find(channel, address)
    if identity is None:
        return await ChannelIdentity.create(customer=customer, channel=channel, address=address)
    previous = identity.customer
    if previous.id == customer.id:
        return identity
    await ChannelIdentity.filter(id=identity.id).update(customer_id=customer.id)
    identity.customer = customer
    if await _chat_made(previous, channel):
        await _merge(previous, into=customer)
    return identity


async def _chat_made(customer: Customer, channel: str) -> bool:
    # a customer created by a bare /start; one with orders is the shop's, whatever its id says
    made = customer.external_id.startswith(f"{channel}:")
    return made and not await Order.filter(customer_id=customer.id).exists()


async def _merge(old: Customer, *, into: Customer) -> None:
    """Move a chat-made customer's chat, events, identities and deliveries to ``into``; delete it."""
    for model in (ChatMessage, Event, ChannelIdentity):
        await model.filter(customer_id=old.id).update(customer_id=into.id)
    taken = set(await Delivery.filter(customer_id=into.id).values_list("campaign_id", "step"))
    for delivery_id, campaign_id, step in await Delivery.filter(customer_id=old.id).values_list(
        "id", "campaign_id", "step"
    ):
        if (campaign_id, step) not in taken:  # a clash is dropped with the old customer: the shop's row stays
            await Delivery.filter(id=delivery_id).update(customer_id=into.id)
    await old.delete()


async def opt_in(identity: ChannelIdentity, *, at: datetime, source: str) -> None:
    """Record consent given in this chat now, and that the chat is reachable again."""
    await Customer.filter(id=identity.customer.id).update(opted_in_at=at, opted_out_at=None, consent_source=source)
    await ChannelIdentity.filter(id=identity.id).update(reachable=True, last_error=None)


async def opt_out(customer_id: int, *, at: datetime) -> None:
    """Record that the customer withdrew consent now."""
    await Customer.filter(id=customer_id).update(opted_out_at=at)


async def withdraw(customer_id: int, *, at: datetime, source: str) -> bool:
    """Opt a subscribed customer out because they left (blocked the bot, account gone), noting ``source`` as the
    consent's last word; False when they were not subscribed (nothing changed, so no second event)."""
    customer = await Customer.get_or_none(id=customer_id)
    given, out = (customer.opted_in_at, customer.opted_out_at) if customer else (None, None)
    if given is None or (out is not None and out >= given):
        return False
    # guarded by the value read: of two dispatchers meeting the same block at once, one opts out (one event)
    unchanged = {"opted_out_at__isnull": True} if out is None else {"opted_out_at": out}
    changed = await Customer.filter(id=customer_id, **unchanged).update(opted_out_at=at, consent_source=source)
    return bool(changed)


async def set_language(customer_id: int, language: str) -> None:
    """Set the language the customer is written to in."""
    await Customer.filter(id=customer_id).update(language=language)


async def click_target(campaign_id: str, step: str, customer_id: int) -> tuple[int | None, int | None]:
    """The campaign (if it exists) and this customer's delivery a button press names, as ids."""
    if not (campaign_id.isascii() and campaign_id.isdigit()) or not 0 < int(campaign_id) <= _BIGINT_MAX:
        return None, None
    if not await Campaign.filter(id=int(campaign_id)).exists():
        return None, None
    delivery = await Delivery.get_or_none(campaign_id=int(campaign_id), step=_text(step), customer_id=customer_id)
    return int(campaign_id), delivery.id if delivery else None


async def add_event(
    type: str,
    *,
    at: datetime,
    customer_id: int | None,
    data: dict[str, Any],
    campaign_id: int | None = None,
    delivery_id: int | None = None,
) -> Event:
    """Record one event."""
    data = {k: _text(v) if isinstance(v, str) else v for k, v in data.items()}
    return await Event.create(
        type=type, at=at, customer_id=customer_id, campaign_id=campaign_id, delivery_id=delivery_id, data=data
    )


async def add_chat_message(customer_id: int, *, channel: str, role: str, text: str, at: datetime) -> ChatMessage:
    """Keep one message of a conversation, as written (NUL, which PostgreSQL cannot hold, becomes U+FFFD)."""
    return await ChatMessage.create(customer_id=customer_id, channel=channel, role=role, text=_text(text), at=at)


async def mark_unreachable(channel: str, address: str, error: str) -> bool:
    """Stop sending to a chat that blocked us or vanished; False when the address is unknown."""
    changed = await ChannelIdentity.filter(channel=channel, address=address).update(
        reachable=False, last_error=_text(error)
    )
    return bool(changed)


async def move_address(channel: str, old: str, new: str) -> bool:
    """Follow a chat to its new address (a Telegram group became a supergroup); False when ``old`` is unknown."""
    async with transaction():
        if await ChannelIdentity.filter(channel=channel, address=new).exists():
            # the new address is already known: it stays as it is, the old one goes
            return bool(await ChannelIdentity.filter(channel=channel, address=old).delete())
        return bool(await ChannelIdentity.filter(channel=channel, address=old).update(address=new))

"""Chat identities: linking and folding in chat-made customers, reachability, moved addresses, conflicts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import identities
from storage.models import Campaign, ChannelIdentity, ChatMessage, Customer, Delivery, Event, Order

NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def test_a_chat_made_customer_is_folded_into_the_shops_with_its_history(database: str) -> None:
    shop = await Customer.create(external_id="C1", name="Grace")
    made = await identities.create_chat_customer("telegram", "42", name="G", language="de")
    await ChannelIdentity.create(customer_id=made.customer.id, channel="slack", address="T1/U1")
    await identities.add_chat_message(made.customer.id, channel="telegram", role="customer", text="hi", at=NOW)
    await identities.add_event("replied", at=NOW, customer_id=made.customer.id, data={"channel": "telegram"})
    campaign = await Campaign.create(key="k", yaml="y", yaml_hash="h")
    await Delivery.create(campaign=campaign, step="main", customer=shop, channel="telegram", text="shop's")
    await Delivery.create(campaign=campaign, step="main", customer_id=made.customer.id, channel="telegram")
    await Delivery.create(campaign=campaign, step="later", customer_id=made.customer.id, channel="telegram")
    async with identities.transaction():
        identity = await identities.link(shop, "telegram", "42")
    assert identity.customer.id == shop.id and await Customer.all().count() == 1
    assert await ChannelIdentity.filter(customer_id=shop.id).count() == 2
    assert await ChatMessage.filter(customer_id=shop.id).count() == 1
    assert await Event.filter(customer_id=shop.id).count() == 1
    steps = sorted(await Delivery.filter(customer_id=shop.id).values_list("step", "text"))
    assert steps == [("later", None), ("main", "shop's")]


async def test_an_address_moves_between_shop_customers_without_deleting_either(database: str) -> None:
    first, second = await Customer.create(external_id="C1"), await Customer.create(external_id="telegram:99")
    await ChannelIdentity.create(customer=first, channel="telegram", address="42")
    await Order.create(external_id="O1", customer=second, ordered_at=NOW)  # orders: the shop's customer
    await ChannelIdentity.create(customer=second, channel="telegram", address="99")
    await identities.link(second, "telegram", "42")
    await identities.link(first, "telegram", "99")
    assert await Customer.all().count() == 2
    owners = dict(await ChannelIdentity.all().values_list("address", "customer_id"))
    assert owners == {"42": second.id, "99": first.id}


async def test_linking_is_idempotent(database: str) -> None:
    shop = await Customer.create(external_id="C1")
    first = await identities.link(shop, "telegram", "42")
    again = await identities.link(shop, "telegram", "42")
    assert first.id == again.id and await ChannelIdentity.all().count() == 1


async def test_an_unreachable_chat_is_marked_with_the_reason(database: str) -> None:
    await identities.create_chat_customer("telegram", "42", name="", language="en")
    assert await identities.mark_unreachable("telegram", "42", "Forbidden: bot was blocked by the user")
    assert not await identities.mark_unreachable("telegram", "43", "Forbidden")
    assert not await identities.mark_unreachable("slack", "42", "Forbidden")
    identity = await ChannelIdentity.get(channel="telegram", address="42")
    assert not identity.reachable and identity.last_error == "Forbidden: bot was blocked by the user"
    assert await ChannelIdentity.all().count() == 1


async def test_a_migrated_chat_keeps_its_customer_at_the_new_address(database: str) -> None:
    made = await identities.create_chat_customer("telegram", "-100", name="", language="en")
    assert await identities.move_address("telegram", "-100", "-1001234")
    assert not await identities.move_address("telegram", "-100", "-1001234")  # already moved
    found = await identities.find("telegram", "-1001234")
    assert found is not None and found.customer.id == made.customer.id
    assert await identities.find("telegram", "-100") is None


async def test_moving_onto_a_known_address_keeps_the_known_one(database: str) -> None:
    old = await identities.create_chat_customer("telegram", "-100", name="", language="en")
    new = await identities.create_chat_customer("telegram", "-1009", name="", language="en")
    assert await identities.move_address("telegram", "-100", "-1009")
    assert [i.customer_id for i in await ChannelIdentity.all()] == [new.customer.id]
    assert await Customer.filter(id=old.customer.id).exists()


async def test_a_unique_clash_in_a_transaction_is_a_conflict_and_rolls_back(database: str) -> None:
    with pytest.raises(identities.Conflict):
        async with identities.transaction():
            await Customer.create(external_id="C2")
            await identities.create_chat_customer("telegram", "42", name="", language="en")
            await identities.create_chat_customer("telegram", "42", name="", language="en")
    assert await Customer.all().count() == 0


def test_chat_made_external_ids_fit_the_column() -> None:
    assert identities.chat_external_id("telegram", "42") == "telegram:42"
    long = identities.chat_external_id("slack", "T" * 60 + "/U1")
    assert long.startswith("slack:") and len(long) <= 64
    assert long != identities.chat_external_id("slack", "T" * 60 + "/U2")

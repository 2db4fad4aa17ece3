"""The schema keeps its promises on both databases: unique keys, cascades, migrations in step with models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.migrations.autodetector import MigrationAutodetector

from storage import db
from storage.db import tortoise_config
from storage.models import (
    Campaign,
    ChannelIdentity,
    ChatMessage,
    Customer,
    CustomerFeatures,
    Delivery,
    Event,
    Order,
    OrderItem,
    Product,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)


async def _shop() -> tuple[Customer, Product, Campaign]:
    customer = await Customer.create(external_id="C1", name="Ada")
    product = await Product.create(sku="SKU1", name="Shoe", price=99.5)
    campaign = await Campaign.create(key="spring", yaml="id: spring", yaml_hash="x")
    return customer, product, campaign


async def test_a_step_reaches_a_customer_at_most_once(database: str) -> None:
    customer, _, campaign = await _shop()
    await Delivery.create(campaign=campaign, step="main", customer=customer, channel="telegram")
    await Delivery.create(campaign=campaign, step="follow-up", customer=customer, channel="telegram")
    with pytest.raises(IntegrityError):
        await Delivery.create(campaign=campaign, step="main", customer=customer, channel="slack")
    assert await Delivery.filter(customer=customer).count() == 2


async def test_a_chat_address_belongs_to_one_customer(database: str) -> None:
    first = await Customer.create(external_id="C1")
    second = await Customer.create(external_id="C2")
    await ChannelIdentity.create(customer=first, channel="telegram", address="42")
    await ChannelIdentity.create(customer=second, channel="slack", address="42")
    with pytest.raises(IntegrityError):
        await ChannelIdentity.create(customer=second, channel="telegram", address="42")


async def test_external_ids_and_skus_are_unique(database: str) -> None:
    await _shop()
    with pytest.raises(IntegrityError):
        await Customer.create(external_id="C1")
    with pytest.raises(IntegrityError):
        await Product.create(sku="SKU1", name="Other", price=1)


async def test_deleting_a_customer_removes_their_data_but_keeps_events_anonymous(database: str) -> None:
    customer, product, campaign = await _shop()
    other = await Customer.create(external_id="C2")
    await ChannelIdentity.create(customer=customer, channel="telegram", address="1")
    order = await Order.create(external_id="O1", customer=customer, ordered_at=NOW, total=99.5)
    await OrderItem.create(order=order, line=1, product=product, quantity=1, unit_price=99.5)
    await CustomerFeatures.create(customer=customer, orders_count=1)
    delivery = await Delivery.create(campaign=campaign, step="main", customer=customer, channel="telegram")
    await ChatMessage.create(customer=customer, channel="telegram", role="customer", text="hi", at=NOW)
    event = await Event.create(type="clicked", customer=customer, delivery=delivery, campaign=campaign, at=NOW)
    await Event.create(type="clicked", customer=other, campaign=campaign, at=NOW)

    await customer.delete()

    for model in (ChannelIdentity, Order, OrderItem, CustomerFeatures, Delivery, ChatMessage):
        assert await model.all().count() == 0, model.__name__
    kept = await Event.get(id=event.id)
    assert kept.customer_id is None and kept.delivery_id is None and kept.campaign_id == campaign.id
    assert await Event.filter(customer=other).count() == 1
    assert await Product.all().count() == 1


async def test_a_product_with_order_history_cannot_be_deleted(database: str) -> None:
    customer, product, _ = await _shop()
    order = await Order.create(external_id="O1", customer=customer, ordered_at=NOW)
    await OrderItem.create(order=order, line=1, product=product, quantity=2, unit_price=10)
    with pytest.raises(IntegrityError):
        await product.delete()
    await order.delete()
    assert await OrderItem.all().count() == 0
    await product.delete()


async def test_deleting_a_campaign_removes_its_outbox_and_detaches_events(database: str) -> None:
    customer, _, campaign = await _shop()
    await Delivery.create(campaign=campaign, step="main", customer=customer, channel="slack")
    event = await Event.create(type="sent", customer=customer, campaign=campaign, at=NOW)
    await campaign.delete()
    assert await Delivery.all().count() == 0
    assert (await Event.get(id=event.id)).campaign_id is None


async def test_upgrade_twice_changes_nothing(database: str) -> None:
    await db.close()
    await db.upgrade(database)
    await db.connect(database)
    assert await Customer.all().count() == 0


async def test_migrations_match_the_models(tmp_path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path / 'x.sqlite3'}")
    await Tortoise.init(config=config, init_connections=False)
    try:
        writers = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
    finally:
        await Tortoise.close_connections()
    assert writers == [], "models changed without a migration: run `tortoise makemigrations` (see docs/production.md)"

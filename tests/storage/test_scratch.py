"""Scratch copies for rehearsals: a snapshot the engine reads as it reads the shop's database (from SQLite by backup,
from PostgreSQL into a SQLite file), without the Slack installations' real tokens, and the original untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from campaigns.results.report import build
from storage import db
from storage.models import Campaign, ChannelIdentity, Customer, Delivery, Event, Installation, Order
from storage.scratch import scratch_copy

SENT = datetime(2027, 4, 5, 9, 30, 15, 250_000, tzinfo=UTC)


async def shop() -> int:
    """A campaign with a message sent, pressed, replied to and bought from, a held-out customer, a Slack install."""
    ann = await Customer.create(external_id="ann", name="Ann Lee", opted_in_at=SENT - timedelta(days=9),
                                attributes={"tier": "gold", "birthday_month": 4}, tags=["club"])  # fmt: skip
    bob = await Customer.create(external_id="bob", name="Bob Roe", opted_in_at=SENT - timedelta(days=9))
    await ChannelIdentity.create(customer=ann, channel="telegram", address="7001")
    campaign = await Campaign.create(key="spring", name="Spring", yaml="id: spring\n", yaml_hash="", status="running")
    sent = await Delivery.create(
        campaign=campaign, step="main", customer=ann, channel="telegram", address="7001", variant="a", status="sent",
        sent_at=SENT, text="Hi Ann", buttons=[{"text": "More", "action": "more"}], attempts=1,
    )  # fmt: skip
    await Delivery.create(
        campaign=campaign, step="main", customer=bob, channel="telegram", variant="b", status="holdout"
    )
    order = await Order.create(
        external_id="o1", customer=ann, ordered_at=SENT + timedelta(hours=2), total=90.5, currency="EUR"
    )
    done = {
        "clicked": {"step": "main"},
        "replied": {"channel": "telegram"},
        "converted": {"order": order.external_id, "total": 90.5, "currency": "EUR"},
    }
    for hours, (kind, data) in enumerate(done.items(), start=1):
        at = SENT + timedelta(hours=hours)
        await Event.create(type=kind, customer=ann, campaign=campaign, delivery=sent, at=at, data=data)
    await Installation.create(channel="slack", workspace=":T0SHOP", data={"bot_token": "xoxb-real-secret"})
    return int(campaign.id)


NOW = datetime(2027, 6, 1, tzinfo=UTC)  # the report's moment: the same for the shop and its copy


async def read(campaign_id: int) -> dict[str, Any]:
    """What the engine reads back: the campaign's report, a customer's consent, attributes and tags, a send time."""
    row = await Campaign.get(id=campaign_id)
    ann = await Customer.get(external_id="ann")
    delivery = await Delivery.get(customer=ann)
    return {
        "report": (await build(row, now=NOW)).as_dict(),
        "ann": (ann.opted_in_at, ann.attributes, ann.tags),
        "sent": (delivery.sent_at, delivery.buttons),
        "installations": await Installation.all().count(),
    }


async def test_a_scratch_copy_reads_as_the_shop_does_without_real_tokens_and_leaves_it_alone(
    database: str, tmp_path: Path
) -> None:
    campaign_id = await shop()
    before = await read(campaign_id)
    assert before["installations"] == 1 and before["report"]["funnel"]["converted"] == 1
    await db.close()

    copy = await scratch_copy(database, tmp_path / "scratch.sqlite3")
    assert copy.source == ("postgres" if database.startswith("postgres") else "sqlite")
    assert copy.rows["customer"] == 2 and copy.rows["event"] == 3 and copy.rows["installation"] == 0
    await db.connect(copy.url)
    try:
        copied = await read(campaign_id)
        await Delivery.filter(customer__external_id="bob").update(status="skipped")  # the copy is the rehearsal's
    finally:
        await db.close()
    assert copied == before | {"installations": 0}  # the same report, moments, JSON; no real Slack token

    await db.connect(database)
    assert await read(campaign_id) == before  # the shop's own database: as it was

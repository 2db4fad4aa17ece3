"""Preview on both databases: only the planned audience, on the planner's channel and variant, every step, and
why nobody is shown when nobody would get the message; it writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaigns.audience.members import NotInAudience
from campaigns.audience.planner import plan, register
from campaigns.audience.sql import bucket, holdout_bound, seeds
from campaigns.content.preview import previews
from campaigns.content.writer import CopyWriter
from campaigns.file.definition import Audience, Campaign, FollowUp, Message, Products, Recommend, Variant
from segments.definitions import parse
from storage.models import ChannelIdentity, Complaint, Customer, Delivery, Event, Product

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEFS = parse(
    """
personas:
  - {id: vip, description: d, tone: t, when: {tags: {contains: vip}}}
  - {id: everyone, description: d, tone: t}
"""
)
TEMPLATE = "Hi {{ customer.first_name }}: {% for p in products %}{{ p.name }}; {% endfor %}{{ unsubscribe }}"


def campaign(**kw: Any) -> Campaign:
    kw.setdefault("channels", ["telegram", "slack"])
    kw.setdefault("message", Message(brief="b", template=TEMPLATE))
    kw.setdefault("id", "spring")
    return Campaign(name="Spring", **kw)


async def person(
    name: str, *, persona: str = "everyone", opted_in: bool = True, chats: tuple[tuple[str, bool], ...] = (), **kw: Any
) -> Customer:
    """A customer (opted in ten days ago unless not) with chat identities (default: reachable on telegram)."""
    at = AS_OF - timedelta(days=10) if opted_in else None
    customer = await Customer.create(external_id=name, name=f"{name} Test", persona=persona, opted_in_at=at, **kw)
    for channel, reachable in chats or (("telegram", True),):
        await ChannelIdentity.create(
            customer=customer, channel=channel, address=f"{name}@{channel}", reachable=reachable
        )
    return customer


async def planned_rows(c: Campaign) -> dict[str, tuple[str, str, str]]:
    """What the planner makes of the same audience: external id -> (status, channel, variant)."""
    campaign_id = await register(c, c.model_dump_json())
    await plan(c, campaign_id, DEFS, as_of=AS_OF)
    rows = await Delivery.filter(campaign_id=campaign_id).values_list(
        "customer__external_id", "status", "channel", "variant"
    )
    return {str(k): (str(s), str(ch), str(v)) for k, s, ch, v in rows}


async def test_preview_shows_only_the_planned_audience_on_the_planners_channel_and_variant(database: str) -> None:
    await person("fine")
    await person("never", opted_in=False)
    await person("vip", persona="vip")
    await person("slack-only", chats=(("slack", True),))
    await person("blocked", chats=(("telegram", False), ("slack", True)))
    await person("gone", chats=(("telegram", False),))
    await person("both", chats=(("slack", True), ("telegram", True)))
    angry = await person("angry")
    await Complaint.create(customer=angry, opened_at=AS_OF - timedelta(days=1), source="message", text="awful")
    c = campaign(audience=Audience(exclude_personas=["vip"], holdout=0.5), variants=[Variant(id="a"), Variant(id="b")])
    crowd = [await person(f"p{n}") for n in range(12)]
    held = {x.external_id for x in crowd if bucket(x.id, seeds(c.id, "holdout")) < holdout_bound(c)}
    assert held and held != {x.external_id for x in crowd}  # the holdout is deterministic: some are, some not
    shown = await previews(c, DEFS, CopyWriter(), as_of=AS_OF, limit=50)
    seen = {p.customer: (p.channel, p.variant) for p in shown}
    assert not {"never", "vip", "gone", "angry"} & set(seen) and not held & set(seen)
    assert await Delivery.all().count() == 0 and await Event.all().count() == 0  # a preview writes nothing
    rows = await planned_rows(c)
    assert seen == {k: (ch, v) for k, (status, ch, v) in rows.items() if status == "planned"}
    assert rows["angry"][0] == "skipped" and held <= {k for k, (s, *_) in rows.items() if s == "holdout"}
    everyone = await previews(campaign(id="all"), DEFS, CopyWriter(), as_of=AS_OF, limit=50)
    channels = {p.customer: p.channel for p in everyone}
    assert (channels["slack-only"], channels["blocked"], channels["both"]) == ("slack", "slack", "telegram")


async def test_preview_shows_every_step_with_its_own_text_and_one_step_on_request(database: str) -> None:
    await person("ann")
    reminder = FollowUp(
        id="reminder",
        after="2d",
        when=["not_clicked"],
        message=Message(brief="r", template="Still there, {{ customer.first_name }}?"),
    )
    c = campaign(follow_ups=[reminder])
    shown = await previews(c, DEFS, CopyWriter(), as_of=AS_OF)
    assert [(p.step, p.customer) for p in shown] == [("main", "ann"), ("reminder", "ann")]
    assert shown[0].copy.text.startswith("Hi ann:") and shown[1].copy.text == "Still there, ann?"
    only = await previews(c, DEFS, CopyWriter(), as_of=AS_OF, step="reminder")
    assert [(p.step, p.copy.text) for p in only] == [("reminder", "Still there, ann?")]


async def test_one_customer_outside_the_audience_is_refused_with_the_reason(database: str) -> None:
    await person("never", opted_in=False)
    await person("vip", persona="vip")
    await person("gone", chats=(("telegram", False),))
    c = campaign(channels=["telegram"], audience=Audience(exclude_personas=["vip"]))
    for who, why in (
        ("never", "they have not opted in (or opted out since)"),
        ("vip", "they are excluded (exclude_personas, exclude_segments)"),
        ("gone", "they have no reachable chat on telegram"),
    ):
        with pytest.raises(NotInAudience) as caught:
            await previews(c, DEFS, CopyWriter(), as_of=AS_OF, customer=who)
        assert str(caught.value) == f"{who} is not in the planned audience of spring: {why}"
    with pytest.raises(NotInAudience, match=r"^no customer 'nobody'$"):
        await previews(c, DEFS, CopyWriter(), as_of=AS_OF, customer="nobody")
    only_vips = campaign(channels=["telegram"], audience=Audience(personas=["vip"]))
    with pytest.raises(NotInAudience, match=r"never is not .*: their persona \(everyone\) is not among its personas"):
        await previews(only_vips, DEFS, CopyWriter(), as_of=AS_OF, customer="never")


async def test_an_empty_audience_says_why(database: str) -> None:
    for n in range(3):
        await person(f"quiet{n}", opted_in=False)
    await person("no-chat", chats=(("slack", True),))
    with pytest.raises(NotInAudience) as caught:
        await previews(campaign(channels=["telegram"]), DEFS, CopyWriter(), as_of=AS_OF)
    assert str(caught.value) == (
        "nobody is in the planned audience: of 4 customers in its personas and segments,"
        " 3 have not opted in (or opted out since), 1 has no reachable chat on telegram"
    )


async def test_preview_says_where_a_recommendation_came_up_short(database: str) -> None:
    await Product.create(sku="S1", name="Shoe one", category="shoes", price=50, stock=3)
    await Product.create(sku="S2", name="Shoe two", category="shoes", price=60, stock=0)  # out of stock
    await Product.create(sku="K1", name="Sock", category="socks", price=5, stock=9)
    await person("ann")
    rule = Recommend(rule="bestsellers", category="shoes", count=3)
    [shown] = await previews(campaign(products=Products(recommend=rule)), DEFS, CopyWriter(), as_of=AS_OF)
    assert "Shoe one" in shown.copy.text and "Sock" not in shown.copy.text
    assert (
        shown.shortfall == "1 of 3 products: the category shoes has no more in stock that the customer has not bought"
    )

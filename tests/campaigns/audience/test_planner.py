"""Planning on both databases: consent, reachability and channel preference, audience, holdout, variants, re-plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaigns.audience.planner import PlanError, plan, register
from campaigns.audience.sql import bucket, seeds, variant_bounds
from campaigns.file.definition import Audience, Campaign, Message, Variant
from segments.definitions import Definitions, parse
from storage.models import Campaign as CampaignRow
from storage.models import ChannelIdentity, Customer, Delivery

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEFS = parse(
    """
personas:
  - {id: vip, description: d, tone: t, when: {tags: {contains: vip}}}
  - {id: regular, description: d, tone: t, when: {language: en}}
  - {id: everyone, description: d, tone: t}
segments:
  - {id: germans, description: d, when: {language: de}}
  - {id: british, description: d, when: {country: GB}}
"""
)


def campaign(key: str = "spring", **kw: Any) -> Campaign:
    kw.setdefault("channels", ["telegram", "slack"])
    return Campaign(id=key, name=key, message=Message(brief="b", template="t"), **kw)


async def person(
    name: str,
    *,
    opted_in: int | None = 10,
    opted_out: int | None = None,
    chats: tuple[tuple[str, bool], ...] = (("telegram", True),),
    **kw: Any,
) -> Customer:
    """A customer who opted in (out) ``opted_in`` (``opted_out``) days before AS_OF, with chat identities."""
    moment = {k: AS_OF - timedelta(days=d) for k, d in (("opted_in_at", opted_in), ("opted_out_at", opted_out)) if d}
    customer = await Customer.create(external_id=name, name=name, **moment, **kw)
    for channel, reachable in chats:
        address = f"{name}@{channel}"
        await ChannelIdentity.create(customer=customer, channel=channel, address=address, reachable=reachable)
    return customer


async def rows(campaign_id: int) -> dict[str, Delivery]:
    found = await Delivery.filter(campaign_id=campaign_id).prefetch_related("customer")
    return {d.customer.external_id: d for d in found}


async def planned(c: Campaign, defs: Definitions = DEFS, **kw: Any) -> tuple[int, Any]:
    campaign_id = await register(c, c.model_dump_json())
    return campaign_id, await plan(c, campaign_id, defs, as_of=AS_OF, **kw)


async def test_only_customers_who_opted_in_and_did_not_opt_out_since(database: str) -> None:
    await person("never", opted_in=None)
    await person("out", opted_in=20, opted_out=5)
    await person("back", opted_in=5, opted_out=20)
    await person("in", opted_in=20)
    campaign_id, result = await planned(campaign())
    assert set(await rows(campaign_id)) == {"back", "in"}
    assert (result.audience, result.no_consent, result.planned) == (4, 2, 2)


async def test_the_first_reachable_channel_by_preference(database: str) -> None:
    await person("both", chats=(("slack", True), ("telegram", True)))
    await person("slack", chats=(("slack", True),))
    await person("blocked", chats=(("telegram", False), ("slack", True)))
    await person("gone", chats=(("telegram", False),))
    await person("none", chats=())
    campaign_id, result = await planned(campaign())
    found = {k: (d.channel, d.address) for k, d in (await rows(campaign_id)).items()}
    assert found == {
        "both": ("telegram", "both@telegram"),
        "slack": ("slack", "slack@slack"),
        "blocked": ("slack", "blocked@slack"),
    }
    assert (result.unreachable, result.channels) == (2, {"telegram": 1, "slack": 2})
    slack_first_id, _ = await planned(campaign("slack-first", channels=["slack"]))
    assert {k: d.channel for k, d in (await rows(slack_first_id)).items()} == {
        "both": "slack",
        "slack": "slack",
        "blocked": "slack",
    }


async def test_personas_segments_and_exclusions(database: str) -> None:
    await person("vip-de", persona="vip", language="de")
    await person("vip-gb", persona="vip", country="GB")
    await person("reg-de", persona="regular", language="de")
    await person("reg-gb", persona="regular", country="GB")
    await person("reg-fr", persona="regular", language="fr")
    await person("unset", persona=None)
    _, everyone = await planned(campaign("all"))
    assert (everyone.audience, everyone.planned) == (6, 6)
    assert everyone.personas == {"vip": 2, "regular": 3, "(none)": 1}
    audience = Audience(personas=["vip", "regular"], segments=["germans", "british"], exclude_segments=["british"])
    campaign_id, result = await planned(campaign("some", audience=audience))
    assert set(await rows(campaign_id)) == {"vip-de", "reg-de"}
    assert (result.audience, result.excluded, result.planned) == (4, 2, 2)
    assert result.personas == {"vip": 1, "regular": 1}
    campaign_id, result = await planned(campaign("not-vip", audience=Audience(exclude_personas=["vip"])))
    assert set(await rows(campaign_id)) == {"reg-de", "reg-gb", "reg-fr", "unset"}
    assert (await rows(campaign_id))["reg-fr"].persona == "regular"
    with pytest.raises(PlanError, match="unknown"):
        await planned(campaign("typo", audience=Audience(segments=["germanz"])))


async def crowd(n: int) -> None:
    """``n`` opted-in customers on telegram, a tenth of them never opted in."""
    at = AS_OF - timedelta(days=3)
    await Customer.bulk_create(
        [Customer(external_id=f"c{i:05d}", opted_in_at=None if i % 10 == 0 else at) for i in range(n)]
    )
    ids = await Customer.all().values_list("id", flat=True)
    await ChannelIdentity.bulk_create([ChannelIdentity(customer_id=i, channel="telegram", address=f"{i}") for i in ids])


async def test_holdout_and_variant_split_are_deterministic_and_stable(database: str) -> None:
    await crowd(2000)
    variants = [Variant(id="saving", weight=3), Variant(id="product", weight=1)]
    c = campaign(audience=Audience(holdout=0.2), variants=variants)
    campaign_id, result = await planned(c)
    assert result.audience == 2000 and result.no_consent == 200
    assert result.planned + result.holdout == 1800
    assert abs(result.holdout / 1800 - 0.2) < 0.03
    assert abs(result.variants["saving"] / result.planned - 0.75) < 0.04
    first = {d.customer_id: (d.status, d.variant) for d in await Delivery.filter(campaign_id=campaign_id)}
    # the database's buckets are the reference function's: the same arm on SQLite, PostgreSQL, any re-plan
    bounds, hold, arm = variant_bounds(c), seeds(c.id, "holdout"), seeds(c.id, "variant")
    for customer_id, (status, variant) in first.items():
        assert status == ("holdout" if bucket(customer_id, hold) < 2000 else "planned")
        assert variant == next(v for v, b in bounds if bucket(customer_id, arm) < b)
    again = await plan(c, campaign_id, DEFS, as_of=AS_OF)
    assert (again.planned, again.holdout, again.already_planned) == (0, 0, 1800)
    assert {d.customer_id: (d.status, d.variant) for d in await Delivery.filter(campaign_id=campaign_id)} == first


async def test_a_replan_adds_only_the_newly_opted_in(database: str) -> None:
    await person("a")
    late = await person("late", opted_in=None)
    c = campaign(audience=Audience(personas=[]))
    campaign_id, first = await planned(c, due_at=AS_OF + timedelta(hours=1))
    assert (first.planned, first.variants) == (1, {"a": 1})
    late.opted_in_at = AS_OF
    await late.save()
    second = await plan(c, campaign_id, DEFS, as_of=AS_OF)
    assert (second.planned, second.already_planned) == (1, 1)
    found = await rows(campaign_id)
    assert found["a"].due_at == AS_OF + timedelta(hours=1) and found["late"].due_at is None
    assert {d.step for d in found.values()} == {"main"} and await Delivery.all().count() == 2


async def test_register_keeps_a_running_campaign_as_launched(database: str) -> None:
    c = campaign()
    campaign_id = await register(c, "v1")
    assert await register(c, "v1") == campaign_id
    assert await register(c, "v2") == campaign_id
    row = await CampaignRow.get(id=campaign_id)
    assert (row.status, row.yaml, len(row.yaml_hash)) == ("draft", "v2", 64)
    await plan(c, campaign_id, DEFS, as_of=AS_OF)
    assert (await CampaignRow.get(id=campaign_id)).status == "planned"
    await CampaignRow.filter(id=campaign_id).update(status="running")
    assert await register(c, "v2") == campaign_id
    with pytest.raises(PlanError, match="running"):
        await register(c, "v3")
    await CampaignRow.filter(id=campaign_id).update(status="cancelled")
    with pytest.raises(PlanError, match="cancelled"):
        await plan(c, campaign_id, DEFS, as_of=AS_OF)

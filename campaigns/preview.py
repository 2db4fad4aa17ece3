"""Previews: each persona's message as a channel will show it, with the guardrails' verdicts; nothing is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.compose import MAIN, Briefs, product_fact
from campaigns.definition import Campaign
from campaigns.writer import Copy, CopyWriter, Recipient
from segments.definitions import Definitions
from segments.recommend import products_by_sku, recommend
from storage import campaigns as campaign_rows


@dataclass(frozen=True)
class Preview:
    """One rendered message: for whom, in which persona, variant and channel, and what the guardrails said."""

    customer: str
    persona: str
    variant: str
    channel: str
    copy: Copy
    verdicts: tuple[object, ...]


async def previews(
    campaign: Campaign,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    as_of: datetime,
    personas: Sequence[str] = (),
    customer: str | None = None,
    limit: int = 1,
    step: str = MAIN,
    shop_name: str = "our shop",
    shop_url: str | None = None,
) -> list[Preview]:
    """Render the step for up to ``limit`` customers of each persona (or one customer), every variant."""
    fixed = []
    if campaign.products and campaign.products.skus:
        fixed = [product_fact(r) for r in await products_by_sku(campaign.products.skus)]
    briefs = Briefs(campaign, definitions, step, fixed, shop_name, shop_url)
    wanted = list(personas) or campaign.audience.personas or definitions.persona_ids()
    variants = [v.id for v in campaign.variants] or ["a"]
    channel = campaign.channels[0]
    rule = campaign.products.recommend if campaign.products else None
    out: list[Preview] = []
    groups = [(None, customer)] if customer else [(p, None) for p in wanted]
    for persona, external_id in groups:
        people = await campaign_rows.sample_customers(persona, limit, external_id)
        picks = await recommend(rule, [c.id for c in people], as_of=as_of) if rule and people else {}
        for person in people:
            language = briefs.message.language if briefs.message.language != "customer" else person.language
            products = tuple(product_fact(p) for p in picks.get(person.id, ())) or tuple(fixed)
            recipient = Recipient(person.id, person.name, language, products)
            for variant in variants:
                brief = briefs.get(person.persona or persona or "", variant, language, channel)
                copy, verdicts = await writer.preview(brief, recipient)
                out.append(Preview(person.external_id, brief.persona, variant, channel, copy, tuple(verdicts)))
    return out

"""Writing the copy of planned deliveries: one brief per persona, variant and language; one text per row.

Rows go from ``planned`` to ``queued`` with their text, buttons, who wrote them (template, model, fallback) and
why (the note). The writer and the guardrails are :mod:`campaigns.writer`'s; this module feeds them facts from
the campaign, the catalog and each customer's recommendations, in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from campaigns.definition import Campaign
from campaigns.step_text import MAIN, RUN_PREFIX, message_for, step_text
from campaigns.writer import Brief, ButtonFact, Copy, CopyWriter, OfferFact, ProductFact, Recipient
from segments.definitions import Definitions
from segments.recommend import ProductRow, products_by_sku, recommend
from storage import descriptions, drafts

TEXT_LIMITS = {"telegram": 4096, "slack": 3000 * 10}  # Slack: ten full sections read as one message at most
__all__ = ["MAIN", "RUN_PREFIX", "Briefs", "WriteResult", "button_rows", "product_fact", "write_copy"]


@dataclass
class WriteResult:
    """What writing did: rows written, by source, and the briefs (distinct persona x variant x language)."""

    written: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    briefs: set[tuple[str, str, str]] = field(default_factory=set)


def product_fact(row: ProductRow) -> ProductFact:
    return ProductFact(
        sku=row.sku, name=row.name, price=row.price, currency=row.currency, url=row.url, category=row.category
    )


def button_rows(copy: Copy) -> list[dict[str, Any]]:
    """A copy's buttons as stored on a delivery: ``{text, url}`` or ``{text, action}``."""
    return [{"text": b.text, **({"url": b.url} if b.url else {"action": b.action or ""})} for b in copy.buttons]


class Briefs:
    """Builds (and keeps) the brief of each persona, variant, language and channel of one campaign step."""

    def __init__(
        self, campaign: Campaign, definitions: Definitions, step: str, fixed: Sequence[ProductFact], shop: str
    ) -> None:
        self.campaign, self.step, self.fixed, self.shop = campaign, step, tuple(fixed), shop
        self.message = message_for(campaign, step)
        self.personas = {p.id: p for p in definitions.personas}
        offer = campaign.offer
        self.offer = OfferFact(offer.code, offer.discount, offer.expires) if offer else None
        # one brief serves every channel of the campaign (the model is asked once per persona, variant and
        # language), so it is held to the strictest of their length limits
        self.limit = min((TEXT_LIMITS.get(c, 4096) for c in campaign.channels), default=4096)
        self._kept: dict[tuple[str, str, str], Brief] = {}

    def get(self, persona: str, variant: str, language: str, channel: str | None = None) -> Brief:
        """The brief for one group of recipients (the same on every channel of the campaign)."""
        key = (persona, variant, language)
        if key not in self._kept:
            p = self.personas.get(persona)
            words = step_text(self.campaign, self.step, variant)  # a follow-up says its own, whatever the variant
            limit = self.limit
            if self.message.max_length:
                limit = min(limit, self.message.max_length)
            self._kept[key] = Brief(
                campaign=self.campaign.id,
                step=self.step,
                persona=persona,
                persona_description=p.description if p else "",
                tone=self.message.tone.get(persona) or (p.tone if p else ""),
                variant=variant,
                language=language,
                brief=words.brief,
                template=words.template,
                buttons=tuple(ButtonFact(b.text, b.url, b.action) for b in self.message.buttons),
                offer=self.offer,
                products=self.fixed,
                max_length=limit,
                shop_name=self.shop,
            )
        return self._kept[key]


async def write_copy(
    campaign: Campaign,
    campaign_id: int,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    as_of: datetime,
    step: str = MAIN,
    shop_name: str = "our shop",
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> WriteResult:
    """Write every ``planned`` row of the step and queue it; returns counts. Safe to run again (resumes)."""
    fixed: list[ProductFact] = []
    if campaign.products and campaign.products.skus:
        fixed = [product_fact(r) for r in await products_by_sku(campaign.products.skus)]
    briefs = Briefs(campaign, definitions, step, fixed, shop_name)
    # copy_test: the template arm gets the brief's template even when a model writes the rest
    held = CopyWriter(None, banned=writer.banned, unsubscribe_hint=writer.unsubscribe_hint, store=None)
    rule = campaign.products.recommend if campaign.products else None
    result = WriteResult()
    after = 0
    while True:
        rows = await drafts.planned_batch(campaign_id, step, after=after, limit=batch)
        if not rows:
            return result
        after = rows[-1].id
        picks = await recommend(rule, [r.customer_id for r in rows], as_of=as_of) if rule else {}
        shorts = await _short_texts(briefs, rows, picks, fixed)
        groups: dict[tuple[str, str, str, str, bool], list[tuple[drafts.PlannedRow, Recipient]]] = {}
        for row in rows:
            language = briefs.message.language if briefs.message.language != "customer" else row.language or "en"
            key = (row.persona or "", row.variant or "a", language, row.channel, row.copy_arm == "template")
            products = tuple(product_fact(p) for p in picks.get(row.customer_id, ())) or tuple(fixed)
            products = tuple(replace(p, short=shorts[language].get(p.sku)) for p in products)
            groups.setdefault(key, []).append((row, Recipient(row.customer_id, row.name, language, products)))
        written: list[drafts.Written] = []
        for (persona, variant, language, channel, template_arm), members in groups.items():
            brief = briefs.get(persona, variant, language, channel)
            if brief.products:  # the model writing for the persona is offered p.short where products have one
                with_short = tuple(replace(p, short=shorts[language].get(p.sku)) for p in brief.products)
                brief = replace(brief, products=with_short)
            copies = await (held if template_arm else writer).compose_many(brief, [r for _, r in members])
            result.briefs.add((brief.persona, brief.variant, brief.language))
            for (row, _), copy in zip(members, copies, strict=True):
                written.append(drafts.Written(row.id, copy.text, button_rows(copy), copy.source, copy.note))
                result.by_source[copy.source] = result.by_source.get(copy.source, 0) + 1
        await drafts.queue_written(written)
        result.written += len(written)
        if progress:
            progress(len(written))


async def _short_texts(
    briefs: Briefs, rows: Sequence[drafts.PlannedRow], picks: dict[int, list[ProductRow]], fixed: Sequence[ProductFact]
) -> dict[str, dict[str, str]]:
    """The approved short descriptions of the batch's products, per language of its rows (for ``p.short``)."""
    skus = {p.sku for p in fixed} | {p.sku for chosen in picks.values() for p in chosen}
    fixed_language = briefs.message.language if briefs.message.language != "customer" else None
    languages = {fixed_language or row.language or "en" for row in rows}
    return {language: await descriptions.short_texts(sorted(skus), language) for language in languages}

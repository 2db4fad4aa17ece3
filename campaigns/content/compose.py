"""Writing the copy of planned deliveries: one brief per persona, variant and language; one text per row.

Rows go from ``planned`` to ``queued`` with their text, buttons, who wrote them (template, model, fallback) and
why (the note). The writer and the guardrails are :mod:`campaigns.content.writer`'s; this module feeds them facts from
the campaign, the catalog and each customer's recommendations, in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from campaigns.content.writer import Brief, Copy, CopyWriter, Recipient
from campaigns.file.definition import Campaign, Image
from campaigns.file.step_text import MAIN, RUN_PREFIX, message_for, step_image, step_text
from segments.definitions import Definitions
from segments.recommend import Recommender, products_by_sku
from storage import descriptions, drafts
from storage.catalog import CatalogProduct

DEFAULT_TEXT_LIMIT = 4096  # characters, for a channel whose limit the writer was not told
__all__ = ["MAIN", "RUN_PREFIX", "Briefs", "WriteResult", "button_rows", "write_copy"]


@dataclass
class WriteResult:
    """What writing did: rows written, by source, and the briefs (distinct persona x variant x language)."""

    written: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    briefs: set[tuple[str, str, str]] = field(default_factory=set)


def button_rows(copy: Copy) -> list[dict[str, Any]]:
    """A copy's buttons as stored on a delivery: ``{text, url}`` or ``{text, action}``."""
    return [{"text": b.text, **({"url": b.url} if b.url else {"action": b.action or ""})} for b in copy.buttons]


class Briefs:
    """Builds (and keeps) the brief of each persona, variant, language and channel of one campaign step."""

    def __init__(
        self,
        campaign: Campaign,
        definitions: Definitions,
        step: str,
        fixed: Sequence[CatalogProduct],
        shop: str,
        shop_url: str | None = None,
        text_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.campaign, self.step, self.fixed, self.shop, self.shop_url = campaign, step, tuple(fixed), shop, shop_url
        self.message = message_for(campaign, step)
        self.personas = {p.id: p for p in definitions.personas}
        # one brief serves every channel of the campaign (the model is asked once per persona, variant and
        # language), so it is held to the strictest of their length limits (``text_limits``: the channels' own)
        limits = text_limits or {}
        self.limit = min((limits.get(c, DEFAULT_TEXT_LIMIT) for c in campaign.channels), default=DEFAULT_TEXT_LIMIT)
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
                buttons=tuple(self.message.buttons),
                offer=self.campaign.offer,
                products=self.fixed,
                max_length=limit,
                shop_name=self.shop,
                shop_url=self.shop_url,
            )
        return self._kept[key]


@dataclass(frozen=True)
class Addressed:
    """One row as the writer gets it: its brief and recipient, whether copy_test holds it on the template, why its
    recommended products are fewer than the rule asks (None when they are not), and the picture sent with it."""

    row: drafts.PlannedRow
    brief: Brief
    recipient: Recipient
    template_arm: bool
    shortfall: str | None = None
    image: Image | None = None


class Recipients:
    """Turns a step's planned rows into :class:`Addressed` ones: the launch writes them, preview and test-send show
    them, so both give a customer the same language, products and brief. The catalog is ranked once."""

    def __init__(self, campaign: Campaign, briefs: Briefs, *, as_of: datetime) -> None:
        self.briefs = briefs
        rule = campaign.products.recommend if campaign.products else None
        self.recommender = Recommender(rule, as_of=as_of) if rule else None

    @classmethod
    async def of_step(
        cls,
        campaign: Campaign,
        definitions: Definitions,
        step: str,
        *,
        as_of: datetime,
        shop_name: str,
        shop_url: str | None = None,
        text_limits: Mapping[str, int] | None = None,
    ) -> Recipients:
        """The recipients of ``step``, with the campaign's fixed products read from the catalog; their texts within
        ``text_limits`` (characters, per channel)."""
        fixed: list[CatalogProduct] = []
        if campaign.products and campaign.products.skus:
            fixed = await products_by_sku(campaign.products.skus)
        return cls(campaign, Briefs(campaign, definitions, step, fixed, shop_name, shop_url, text_limits), as_of=as_of)

    async def address(self, rows: Sequence[drafts.PlannedRow]) -> list[Addressed]:
        """Each row's brief and recipient, in order."""
        briefs, fixed = self.briefs, self.briefs.fixed
        picks = await self.recommender.pick([r.customer_id for r in rows]) if self.recommender else {}
        shorts = await _short_texts(briefs, rows, picks, fixed)
        out = []
        for row in rows:
            language = briefs.message.language if briefs.message.language != "customer" else row.language or "en"
            known = shorts[language]
            chosen = picks.get(row.customer_id, [])
            products = tuple(replace(p, short=known.get(p.sku)) for p in self._products(chosen))
            brief = briefs.get(row.persona or "", row.variant or "a", language, row.channel)
            if brief.products:  # the model writing for the persona is offered p.short where products have one
                brief = replace(brief, products=tuple(replace(p, short=known.get(p.sku)) for p in brief.products))
            short = self.recommender.shortfall(len(chosen)) if self.recommender else None
            recipient = Recipient(row.customer_id, row.name, language, products, row.channel)
            image = step_image(briefs.campaign, briefs.step, brief.variant)
            out.append(Addressed(row, brief, recipient, row.copy_arm == "template", short, image))
        return out

    def _products(self, chosen: Sequence[CatalogProduct]) -> tuple[CatalogProduct, ...]:
        return tuple(chosen) or self.briefs.fixed


def template_arm(writer: CopyWriter) -> CopyWriter:
    """The writer of copy_test's template arm: the brief's template even when a model writes the rest."""
    return CopyWriter(
        None,
        banned=writer.banned,
        unsubscribe_hint=writer.unsubscribe_hint,
        store=None,
        text_limits=writer.text_limits,
        data_texts=writer.data_texts,
    )


async def write_copy(
    campaign: Campaign,
    campaign_id: int,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    as_of: datetime,
    step: str = MAIN,
    shop_name: str = "our shop",
    shop_url: str | None = None,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> WriteResult:
    """Write every ``planned`` row of the step and queue it; returns counts. Safe to run again (resumes)."""
    recipients = await Recipients.of_step(
        campaign, definitions, step, as_of=as_of, shop_name=shop_name, shop_url=shop_url, text_limits=writer.text_limits
    )
    held = template_arm(writer)
    result = WriteResult()
    after = 0
    while True:
        rows = await drafts.planned_batch(campaign_id, step, after=after, limit=batch)
        if not rows:
            return result
        after = rows[-1].id
        groups: dict[tuple[Brief, bool], list[Addressed]] = {}
        for one in await recipients.address(rows):
            groups.setdefault((one.brief, one.template_arm), []).append(one)
        written: list[drafts.Written] = []
        for (brief, template), members in groups.items():
            copies = await (held if template else writer).compose_many(brief, [m.recipient for m in members])
            result.briefs.add((brief.persona, brief.variant, brief.language))
            for one, copy in zip(members, copies, strict=True):
                image = (one.image.url, one.image.alt) if one.image else (None, None)
                written.append(drafts.Written(one.row.id, copy.text, button_rows(copy), copy.source, copy.note, *image))
                result.by_source[copy.source] = result.by_source.get(copy.source, 0) + 1
        await drafts.queue_written(written)
        result.written += len(written)
        if progress:
            progress(len(written))


async def _short_texts(
    briefs: Briefs,
    rows: Sequence[drafts.PlannedRow],
    picks: dict[int, list[CatalogProduct]],
    fixed: Sequence[CatalogProduct],
) -> dict[str, dict[str, str]]:
    """The approved short descriptions of the batch's products, per language of its rows (for ``p.short``)."""
    skus = {p.sku for p in fixed} | {p.sku for chosen in picks.values() for p in chosen}
    fixed_language = briefs.message.language if briefs.message.language != "customer" else None
    languages = {fixed_language or row.language or "en" for row in rows}
    return {language: await descriptions.short_texts(sorted(skus), language) for language in languages}

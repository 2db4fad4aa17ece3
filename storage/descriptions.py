"""Product descriptions as written, reviewed and used: drafts, approved texts, and the short ones for chat.

A product has at most one draft per language (a new one replaces it) and one approved text per language
(approving a draft marks the one before it ``replaced``), so the history of a description stays readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from storage.models import Customer, Product, ProductCopy

STATUSES = ("draft", "approved", "rejected", "replaced")


async def catalog(*, skus: Sequence[str] = (), category: str | None = None) -> list[Product]:
    """Active products by SKU or category (all of them when neither is given), by SKU."""
    query = Product.filter(active=True)
    if skus:
        query = query.filter(sku__in=list(skus))
    if category:
        query = query.filter(category__iexact=category)
    return await query.order_by("sku")


async def save_draft(
    product_id: int, language: str, *, long: str, short: str, source: str, note: str | None, facts: dict[str, Any]
) -> ProductCopy:
    """Keep a new draft, in place of the product's earlier draft in this language."""
    async with in_transaction():
        await Product.filter(id=product_id).select_for_update()  # not while a review decides this product's drafts
        await ProductCopy.filter(product_id=product_id, language=language, status="draft").delete()
        return await ProductCopy.create(
            product_id=product_id, language=language, long=long, short=short, source=source, note=note, facts=facts
        )


async def drafts(skus: Sequence[str] = ()) -> list[ProductCopy]:
    """The drafts waiting for review (of ``skus`` only, when given), with their products, by SKU and language."""
    query = ProductCopy.filter(status="draft").select_related("product")
    if skus:
        query = query.filter(product__sku__in=list(skus))
    return await query.order_by("product__sku", "language")


async def approved(language: str | None = None) -> list[ProductCopy]:
    """The approved descriptions, with their products, by SKU and language."""
    query = ProductCopy.filter(status="approved").select_related("product")
    if language:
        query = query.filter(language=language)
    return await query.order_by("product__sku", "language")


async def current(product_id: int, language: str) -> ProductCopy | None:
    """The approved description of a product in a language, if any."""
    return await ProductCopy.filter(product_id=product_id, language=language, status="approved").first()


async def decide(*, approve: bool, at: datetime, skus: Sequence[str] = (), language: str | None = None) -> int:
    """Approve or reject the drafts of ``skus`` (all drafts when none are given); how many were decided."""
    query = ProductCopy.filter(status="draft")
    if skus:
        query = query.filter(product__sku__in=list(skus))
    if language:
        query = query.filter(language=language)
    async with in_transaction():
        # Lock the products first (a model query: tortoise drops FOR UPDATE from values_list), in id order so two
        # reviewers cannot deadlock; a second approval waits here, then reads the drafts the first left.
        products = await query.values_list("product_id", flat=True)
        await Product.filter(id__in=sorted(set(products))).order_by("id").select_for_update()
        rows = await query.values_list("id", "product_id", "language")
        for copy_id, product_id, lang in rows:
            if approve:
                await ProductCopy.filter(product_id=product_id, language=lang, status="approved").update(
                    status="replaced"
                )
            await ProductCopy.filter(id=copy_id).update(status="approved" if approve else "rejected", reviewed_at=at)
    return len(rows)


def languages(language: str) -> list[str]:
    """The languages to look for a text in, best first: ``de-AT``, then ``de``, then English."""
    return list(dict.fromkeys([language, language.split("-")[0], "en"]))


def _plain(value: object) -> str:
    # assistant.descriptions.facts.attribute_text, which storage may not import: how the facts were stored
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def stale(facts: dict[str, Any], price: float, currency: str, attributes: dict[str, Any] | None) -> bool:
    """Whether a text's stored facts no longer match the product: its price, currency or attributes changed."""
    now = {str(k): _plain(v) for k, v in (attributes or {}).items() if v not in (None, "")}
    was = facts.get("price")
    moved = not isinstance(was, int | float) or abs(was - round(price, 2)) >= 0.005
    return moved or facts.get("currency", currency) != currency or (facts.get("attributes") or {}) != now


async def short_texts(skus: Sequence[str], language: str) -> dict[str, str]:
    """The approved short description of each SKU in ``language`` (its base language, then English, where it has
    none); a text written from facts that no longer hold (a new price or specification) is not used."""
    if not skus:
        return {}
    wanted = languages(language)
    rows = await ProductCopy.filter(
        status="approved", product__sku__in=list(skus), language__in=wanted
    ).values_list("product__sku", "language", "short", "facts", "product__price", "product__currency",
                  "product__attributes")  # fmt: skip
    found: dict[str, str] = {}
    for sku, _, short, facts, price, currency, attributes in sorted(rows, key=lambda r: -wanted.index(r[1])):
        if not stale(facts or {}, price, currency, attributes):  # the best language last: it wins
            found[str(sku)] = str(short)
    return found


async def customer_language(customer_id: int) -> str:
    """The language a customer reads (English when unknown)."""
    language = await Customer.filter(id=customer_id).first().values_list("language", flat=True)
    return str(language or "en")

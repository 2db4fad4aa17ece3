"""Guardrails: each rule on texts that pass and texts that must not."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from campaigns.content.guardrails import Verdict, check, failures
from campaigns.content.writer import Brief, Recipient
from campaigns.file.definition import Offer
from storage.catalog import CatalogProduct

SWEATER = CatalogProduct("MW-100", "Merino Wool Sweater", 79.9, "EUR")
LAPTOP = CatalogProduct("LP-1", "Pro Laptop", 1299.0, "EUR")
MUG = CatalogProduct("MG-2", "Enamel Mug", 12.5, "EUR")
HINT = "Reply STOP to unsubscribe."
BRIEF = Brief(
    campaign="spring",
    step="main",
    persona="bargain",
    persona_description="deal hunter",
    tone="playful",
    variant="a",
    language="en",
    brief="Announce the sale",
    template="{{ unsubscribe }}",
    buttons=(),
    offer=Offer(code="SPRING20", discount="20%"),
    products=(SWEATER, LAPTOP),
    max_length=200,
    shop_name="Woolly",
)
ANNA = Recipient(7, "Anna K2000", "en", (MUG,))


def rule(
    text: str, name: str, brief: Brief = BRIEF, *, limit: int | None = None, banned: Sequence[str] = ()
) -> Verdict:
    verdicts = check(text + " " + HINT, brief=brief, recipient=ANNA, limit=limit, banned=banned, unsubscribe_hint=HINT)
    return next(v for v in verdicts if v.rule == name)


@pytest.mark.parametrize(
    "text",
    [
        "Use code SPRING20 today",
        "use the code spring20",
        "Sweater MW-100 and laptop LP-1",
        "our 64GB model opens at 10AM",
        "code: SPRING20",
        "Hi Anna K2000, your code works",
    ],
)
def test_known_codes_and_code_like_words_pass(text: str) -> None:
    assert rule(text, "codes").ok


@pytest.mark.parametrize(
    ("text", "code"),
    [("Use SAVE50 at checkout", "SAVE50"), ("with code welcome10", "welcome10"), ("Code: BLACKFRIDAY", "BLACKFRIDAY")],
)
def test_invented_codes_are_caught(text: str, code: str) -> None:
    verdict = rule(text, "codes")
    assert not verdict.ok and verdict.detail == f"unknown code {code}"


@pytest.mark.parametrize(
    "text",
    [
        "now €79.90",
        "only 79,90 EUR",
        "EUR 79.9",
        "the laptop for 1,299.00 EUR",
        "mugs at €12.50",
        "no price at all: 3 mugs",
    ],
)
def test_catalog_prices_pass(text: str) -> None:
    assert rule(text, "prices").ok


@pytest.mark.parametrize(
    ("text", "price"),
    [("now €59.90", "€59.90"), ("just $79.90", "$79.90"), ("from 5 EUR", "5 EUR"), ("£12.50", "£12.50")],
)
def test_prices_not_in_the_catalog_or_in_another_currency_are_caught(text: str, price: str) -> None:
    verdict = rule(text, "prices")
    assert not verdict.ok and verdict.detail == f"unknown price {price}"


def test_an_amount_offer_is_a_known_price() -> None:
    brief = dataclasses.replace(BRIEF, offer=Offer(code="TENOFF", discount="10 EUR"))
    assert rule("save 10 EUR with TENOFF", "prices", brief).ok and rule("save €10", "prices", brief).ok
    assert not rule("save 20%", "percentages", brief).ok


def test_percentages_must_be_the_offers() -> None:
    assert rule("20% off", "percentages").ok and rule("20 % off", "percentages").ok
    verdict = rule("20% off, 50% on mugs", "percentages")
    assert not verdict.ok and verdict.detail == "unknown percentage 50%"


@pytest.mark.parametrize(
    "text",
    [
        "Our Merino Wool Sweater is back",
        "The Wool Sweater you loved",
        "«Enamel Mug» for tea",
        "Spring Sale at Woolly",
        "Dear Anna, Happy Easter",
    ],
)
def test_products_named_as_in_the_catalog_pass(text: str) -> None:
    assert rule(text, "products").ok


@pytest.mark.parametrize(
    "text",
    [
        "the Cashmere Sweater is here",
        'try the "Merino Sweater"',
        "our new Travel Mug",
        "Get The Gaming Laptop Now",
        "Cashmere Sweater",
    ],
)
def test_renamed_or_invented_products_are_caught(text: str) -> None:
    assert not rule(text, "products").ok


def test_length_is_the_smaller_of_the_channel_limit_and_the_briefs() -> None:
    assert rule("x" * 150, "length").ok
    assert not rule("x" * 200, "length").ok
    assert not rule("x" * 150, "length", limit=100).ok
    assert rule("x" * 150, "length", limit=4096).ok


def test_unsubscribe_hint_and_banned_phrases() -> None:
    missing = check("Hello", brief=BRIEF, unsubscribe_hint=HINT)
    assert failures(missing) == "unsubscribe: the unsubscribe hint is missing"
    assert rule("reply stop to unsubscribe.", "unsubscribe").ok
    banned = rule("LAST CHANCE, buy now!", "banned", banned=["last chance", "Buy Now", ""])
    assert not banned.ok and banned.detail == "banned phrase 'last chance'; banned phrase 'Buy Now'"
    without_hint = {v.rule for v in check("Hello", brief=BRIEF)}
    assert without_hint == {"length", "codes", "prices", "percentages", "products", "banned"}

"""Product descriptions kept and used, on both databases: drafts written from the catalog and the reviews (offline
and with a model that invents an award), approval and its history, and the approved short text in a campaign
message's ``p.short`` slot and in the assistant's product answers (offline and to the model)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from assistant.descriptions.service import describe_products
from assistant.descriptions.writer import Describer
from assistant.descriptions.writer_openai import OpenAIDescriber
from assistant.guard import Facts, problems
from campaigns.audience.planner import plan, register
from campaigns.content.compose import write_copy
from campaigns.content.writer import CopyWriter
from campaigns.content.writer_openai import OpenAIWriter
from campaigns.file.definition import Campaign, Message, Products
from segments.definitions import parse
from storage import descriptions
from storage.models import ChannelIdentity, Customer, Delivery, Feedback, Product, ProductCopy
from tests.fakes.assistant_shop import engine, say, seed
from tests.fakes.openai_api import Answer, FakeOpenAI, calls, said, user_data

NOW = datetime(2027, 3, 10, 12, tzinfo=UTC)
SOCKS = "Merino Socks (70% merino wool, 3 pairs)"


async def socks() -> Product:
    attributes = {"material": "70% merino wool", "pack": "3 pairs"}
    product = await Product.create(
        sku="SOX-1", name="Merino Socks", category="socks", price=14.5, attributes=attributes
    )
    mia = await Customer.create(external_id="C1", name="Mia", language="de", opted_in_at=NOW)
    for text, score in (("So comfortable and warm", 0.8), ("Comfortable all day, soft", 0.7)):
        await Feedback.create(customer=mia, products=["SOX-1"], text=text, sentiment=score, themes=[], at=NOW)
    return product


async def test_drafts_from_facts_and_reviews_then_approval_keeps_the_history(database: str) -> None:
    product = await socks()
    written = await describe_products(Describer(), [product], ["en", "de"])
    assert [(w.sku, w.description.language, w.description.source) for w in written] == [
        ("SOX-1", "en", "template"), ("SOX-1", "de", "template"),
    ]  # fmt: skip
    first = await ProductCopy.get(product_id=product.id, language="en")
    assert first.status == "draft" and first.short == f"{SOCKS}, praised for its comfort"
    assert first.facts["attributes"] == {"material": "70% merino wool", "pack": "3 pairs"}
    assert first.facts["praised"] == ["comfort"] and first.facts["reviews"] == 2 and first.facts["price"] == 14.5
    await describe_products(Describer(), [product], ["en"])  # a new draft replaces the waiting one
    assert await ProductCopy.filter(product_id=product.id, language="en").count() == 1
    assert await descriptions.decide(approve=True, at=NOW, skus=["SOX-1"], language="en") == 1
    assert await descriptions.decide(approve=False, at=NOW, skus=["SOX-1"]) == 1  # the German one
    await describe_products(Describer(), [product], ["en"])
    assert await descriptions.decide(approve=True, at=NOW) == 1
    statuses = await ProductCopy.filter(product_id=product.id).order_by("id").values_list("language", "status")
    assert statuses == [("de", "rejected"), ("en", "replaced"), ("en", "approved")]
    assert await descriptions.short_texts(["SOX-1", "NONE"], "de") == {"SOX-1": f"{SOCKS}, praised for its comfort"}


async def test_a_model_that_invents_an_award_leaves_a_template_draft_with_the_reason(
    database: str, validator: Any
) -> None:
    product = await socks()
    award = Answer(content=json.dumps({"long": "Award-winning Merino Socks.", "short": "Award-winning socks."}))
    fake = FakeOpenAI(award, award, validate=validator)
    await describe_products(Describer(OpenAIDescriber(fake.client(), "gpt-4o-mini")), [product], ["en"])
    draft = await ProductCopy.get(product_id=product.id)
    assert draft.source == "fallback" and "Award" not in draft.long and draft.long.startswith("Merino Socks, from")
    assert draft.note and "claim 'Award' (award) that no fact supports" in draft.note
    assert fake.problems == [] and len(fake.requests) == 2


async def test_a_campaign_message_uses_the_approved_short_text(database: str) -> None:
    product = await socks()
    await describe_products(Describer(), [product], ["en"])
    await descriptions.decide(approve=True, at=NOW)
    for name, language in (("Ana", "en"), ("Ben", "fr")):
        customer = await Customer.create(external_id=name, name=name, language=language, opted_in_at=NOW)
        await ChannelIdentity.create(customer=customer, channel="telegram", address=name)
    template = "{% for p in products %}{{ p.name }}: {{ p.short or '' }}\n{% endfor %}{{ unsubscribe }}"
    campaign = Campaign(
        id="socks", name="Socks", channels=["telegram"], products=Products(skus=["SOX-1"]),
        message=Message(brief="b", template=template, language="customer"),
    )  # fmt: skip
    definitions = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
    campaign_id = await register(campaign, campaign.model_dump_json())
    await plan(campaign, campaign_id, definitions, as_of=NOW)
    result = await write_copy(campaign, campaign_id, definitions, CopyWriter(store=None), as_of=NOW)
    assert result.written == 2  # Ana and Ben (Mia has no chat)
    texts = await Delivery.filter(campaign_id=campaign_id).values_list("text", flat=True)
    # French has no approved text of its own: the English one is used
    assert texts == [f"Merino Socks: {SOCKS}, praised for its comfort\nReply STOP to unsubscribe."] * 2


async def test_the_assistant_tells_the_approved_short_text_offline_and_to_the_model(
    database: str, validator: Any
) -> None:
    shop = await seed()
    short = "Merino Socks: 3 pairs of soft merino, 14.50 USD"
    await ProductCopy.create(
        product_id=shop.products["APP-SOX"],
        language="en",
        long="x",
        short=short,
        status="approved",
        source="model",
        facts={"price": 14.5, "currency": "USD"},
    )
    inbound, _ = engine()
    reply = await say(inbound, "Do you sell merino socks?")
    assert reply and f"\n  {short}" in reply.text
    fake = FakeOpenAI(
        calls(("search_products", {"query": "merino socks"})),
        said("Yes: Merino Socks, 3 pairs of soft merino for 14.50 USD."),
        validate=validator,
    )
    from assistant.llm import OpenAIAssistant

    inbound, _ = engine(model=OpenAIAssistant(fake.client(), "gpt-4o-mini", shop="Stride & Trail"))
    reply = await say(inbound, "merino socks?")
    assert reply and reply.text == "Yes: Merino Socks, 3 pairs of soft merino for 14.50 USD."  # "3" is a fact now
    tool_result = json.loads(fake.requests[1]["messages"][-1]["content"])
    assert tool_result["products"][0]["description"] == short and fake.problems == []


async def test_a_regional_language_falls_back_to_its_base_then_english(database: str) -> None:
    product = await socks()
    await describe_products(Describer(), [product], ["en", "de"])
    await descriptions.decide(approve=True, at=NOW)
    german = await ProductCopy.get(product_id=product.id, language="de")
    assert await descriptions.short_texts(["SOX-1"], "de-AT") == {"SOX-1": german.short}
    assert german.short != (await descriptions.short_texts(["SOX-1"], "fr-CA"))["SOX-1"]  # English


async def test_an_approved_text_from_facts_that_changed_is_not_used(database: str) -> None:
    product = await socks()
    await describe_products(Describer(), [product], ["en"])
    await descriptions.decide(approve=True, at=NOW)
    assert await descriptions.short_texts(["SOX-1"], "en") != {}
    await Product.filter(id=product.id).update(price=16.0)
    assert await descriptions.short_texts(["SOX-1"], "en") == {}  # written at 14.50
    await Product.filter(id=product.id).update(price=14.5, attributes={"material": "70% merino wool"})
    assert await descriptions.short_texts(["SOX-1"], "en") == {}  # the pack size is gone
    await Product.filter(id=product.id).update(attributes={"material": "70% merino wool", "pack": "3 pairs"})
    assert list(await descriptions.short_texts(["SOX-1"], "en")) == ["SOX-1"]


async def test_the_guard_takes_no_price_from_an_approved_text(database: str) -> None:
    shop = await seed()
    jacket = shop.products["APP-JKT"]  # 149.00 now; the text was approved at 99
    await ProductCopy.create(
        product_id=jacket, language="en", long="x", short="Summit Jacket, now just 99.00 USD", status="approved",
        source="model", facts={"price": 99.0, "currency": "USD"},
    )  # fmt: skip
    facts = Facts()
    facts.add({"products": [{"sku": "APP-JKT", "price": 149.0, "description": "Summit Jacket, now just 99.00 USD"}]})
    assert problems("It costs 99.00 USD.", facts) == ["price 99.00 USD that no tool returned"]
    assert problems("It costs 149.00 USD.", facts) == []
    inbound, _ = engine()
    reply = await say(inbound, "Do you sell the summit jacket?")
    assert reply and "99.00" not in reply.text and "149.00" in reply.text  # the stale text is not offered


async def test_the_model_writing_for_a_persona_is_offered_the_short_text(database: str, validator: Any) -> None:
    product = await socks()
    await describe_products(Describer(), [product], ["en"])
    await descriptions.decide(approve=True, at=NOW)
    ana = await Customer.create(external_id="Ana", name="Ana", language="en", opted_in_at=NOW)
    await ChannelIdentity.create(customer=ana, channel="telegram", address="Ana")
    template = "{% for p in products %}{{ p.name }}: {{ p.short or '' }}\n{% endfor %}{{ unsubscribe }}"
    campaign = Campaign(
        id="socks", name="Socks", channels=["telegram"], products=Products(skus=["SOX-1"]),
        message=Message(brief="b", template="{{ unsubscribe }}", language="customer"),
    )  # fmt: skip
    definitions = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
    campaign_id = await register(campaign, campaign.model_dump_json())
    await plan(campaign, campaign_id, definitions, as_of=NOW)
    fake = FakeOpenAI(Answer(content=json.dumps({"text": template, "button_labels": []})), validate=validator)
    writer = CopyWriter(OpenAIWriter(fake.client(), "gpt-4o-mini"), store=None)
    assert (await write_copy(campaign, campaign_id, definitions, writer, as_of=NOW)).written == 1
    system = fake.requests[0]["messages"][0]["content"]
    assert "{{ p.currency }} {{ p.short or '' }}{% endfor %}" in system and fake.problems == []
    assert user_data(fake.requests[0])["products"][0]["short"] == f"{SOCKS}, praised for its comfort"
    text = await Delivery.get(campaign_id=campaign_id).values_list("text", flat=True)
    assert text == f"Merino Socks: {SOCKS}, praised for its comfort\nReply STOP to unsubscribe."


async def test_two_approvals_at_once_leave_one_approved_text(database: str) -> None:
    product = await socks()
    for text in ("first", "second"):  # two drafts waiting, as a describe beside a review can leave
        await ProductCopy.create(product_id=product.id, language="en", long=text, short=text, source="template")
    decided = await asyncio.gather(*(descriptions.decide(approve=True, at=NOW, language="en") for _ in range(2)))
    assert sorted(decided) == [0, 2]  # the second waited for the first, then found nothing left to decide
    assert await ProductCopy.filter(product_id=product.id, status="approved").count() == 1

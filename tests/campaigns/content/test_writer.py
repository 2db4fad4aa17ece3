"""The writer: template mode, the OpenAI writer on a fake API (persona and recipient modes), caching, fallbacks."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from campaigns.content.writer import Brief, CopyWriter, OpenAIWriter, Recipient
from campaigns.file.definition import ButtonSpec, Offer
from storage.catalog import CatalogProduct
from tests.fakes import openai_api as api
from tests.fakes.environment import reference_file
from tests.fakes.openai_api import FakeOpenAI, Validator, schema_validator, user_data

SWEATER = CatalogProduct("MW-1", "Merino Wool Sweater", 79.9, "EUR", "https://shop.test/p/MW-1", "knitwear")
SHIRT = CatalogProduct("LS-2", "Linen Shirt", 39.0, "EUR", "https://shop.test/p/LS-2", "shirts")
SCARF = CatalogProduct("SC-3", "Silk Scarf", 25.5, "EUR", None, "accessories")
TEMPLATE = (
    "Hi {{ customer.first_name }}! {{ offer.discount }} off with code {{ offer.code }}."
    "\n{% for p in products %}\n- {{ p.name }}: {{ p.price }} {{ p.currency }}\n{% endfor %}\n{{ unsubscribe }}"
)
GOOD = (
    "Hey {{ customer.first_name }}, spring is here: {{ offer.discount }} off with code {{ offer.code }}!"
    "\n{% for p in products %}\n{{ p.name }} at {{ p.price }} {{ p.currency }}\n{% endfor %}\n{{ unsubscribe }}"
)
HINT = "Reply STOP to unsubscribe."


def brief(**changes: Any) -> Brief:
    base = Brief(
        campaign="spring",
        step="main",
        persona="bargain",
        persona_description="Hunts for deals, buys on discount",
        tone="playful",
        variant="a",
        language="en",
        brief="Announce the spring sale: 20% off knitwear with the code.",
        template=TEMPLATE,
        buttons=(ButtonSpec(text="Shop now", url="https://shop.test/p/{{ product.sku }}?c={{ offer.code }}"),),
        offer=Offer(code="SPRING20", discount="20%"),
        products=(SWEATER,),
        max_length=500,
        shop_name="Woolly",
        shop_url="https://shop.test",
    )
    return dataclasses.replace(base, **changes)


def anna(**changes: Any) -> Recipient:
    return dataclasses.replace(Recipient(7, "Anna Berg", "en", (SHIRT,)), **changes)


@pytest.fixture
def fake(fake_openai: FakeOpenAI) -> FakeOpenAI:
    """A fake API answering GOOD by default; every request it got must have been valid and scripted."""
    fake_openai.default = lambda _: api.draft(GOOD, ["Shop the sale"])
    return fake_openai


def writer(fake: FakeOpenAI, **options: Any) -> CopyWriter:
    return CopyWriter(OpenAIWriter(fake.client(), "gpt-4o-mini"), store=None, **options)


async def test_template_mode_renders_the_brief_per_recipient() -> None:
    copy, verdicts = await CopyWriter(store=None).preview(brief(), anna())
    assert copy.source == "template" and copy.note is None
    assert copy.text.startswith("Hi Anna! 20% off with code SPRING20.\n- Linen Shirt: 39.0 EUR\n")
    assert copy.text.endswith(HINT)
    assert copy.buttons[0].text == "Shop now" and copy.buttons[0].url == "https://shop.test/p/LS-2?c=SPRING20"
    assert all(v.ok for v in verdicts)


async def test_a_value_with_nothing_behind_it_is_never_sent_as_none() -> None:
    buttons = (
        ButtonSpec(text="Shop", url="{{ shop.url }}?code={{ offer.code }}"),
        ButtonSpec(text="See it", url="{{ product.url }}"),
    )
    unset = brief(shop_url=None, buttons=buttons, template="Visit {{ shop.url }}! {{ unsubscribe }}")
    copy = await CopyWriter(store=None).compose(unset, anna(products=(SCARF,)))  # the scarf has no link
    assert "None" not in copy.text and all("None" not in (b.url or "") for b in copy.buttons)
    assert copy.source == "fallback" and copy.buttons == ()
    assert copy.note == (
        "template error: UndefinedError: shop.url has no value; sent the safe default text; button 'Shop':"
        " UndefinedError: shop.url has no value; button 'See it': UndefinedError: product.url has no value"
    )
    guarded = unset.template.replace("{{ shop.url }}", "{{ shop.url or shop.name }}")
    copy = await CopyWriter(store=None).compose(dataclasses.replace(unset, template=guarded), anna(products=(SCARF,)))
    assert copy.text.startswith("Visit Woolly!")
    copy = await CopyWriter(store=None).compose(dataclasses.replace(unset, shop_url="https://shop.test"), anna())
    assert copy.source == "template" and copy.text.startswith("Visit https://shop.test!")
    assert [b.url for b in copy.buttons] == ["https://shop.test?code=SPRING20", "https://shop.test/p/LS-2"]


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "SecurityError"),
        ("{{ customer.__init__.__globals__ }}", "SecurityError"),
        ("{{ 'x' * 1000000000 }}", "OverBudget: the repetition (*) would hold 1,000,000,000"),
        ("{% for i in range(999) %}{% for j in range(999) %}{% endfor %}{% endfor %}", "more than 100,000 steps"),
        ("Hi {{ customer.email }}", "UndefinedError"),
        ("Hi {% if %}", "TemplateSyntaxError"),
    ],
)
async def test_a_failing_template_falls_back_to_the_safe_text(template: str, error: str) -> None:
    copy = await CopyWriter(store=None).compose(brief(template=template), anna())
    assert copy.source == "fallback"
    assert copy.note and error in copy.note and "safe default" in copy.note
    assert copy.text == "Woolly: use code SPRING20 for 20% off.\nhttps://shop.test\n" + HINT


async def test_a_template_failing_guardrails_is_still_sent_with_the_verdicts() -> None:
    writer_ = CopyWriter(store=None, banned=["act now"])
    copy, verdicts = await writer_.preview(brief(template="ACT NOW, {{ customer.first_name }}: code SAVE50!"), anna())
    assert copy.source == "template" and copy.text == "ACT NOW, Anna: code SAVE50!"
    failed = {v.rule for v in verdicts if not v.ok}
    assert failed == {"banned", "codes", "unsubscribe"}
    assert copy.note and copy.note.startswith("guardrails: ") and "SAVE50" in copy.note
    assert writer_.stats.fallbacks == 0


async def test_persona_mode_calls_the_model_once_per_distinct_brief(fake: FakeOpenAI) -> None:
    writer_ = writer(fake)
    briefs = [brief(persona=p, variant=v, language=lang) for p in ("bargain", "loyal") for v in "ab" for lang in "ed"]
    people = [Recipient(i, f"Customer{i} Doe", "en", ((SHIRT,), (SCARF,), ())[i % 3]) for i in range(1000)]
    copies = [await writer_.compose(briefs[i % len(briefs)], person) for i, person in enumerate(people)]
    assert writer_.stats.calls == len(fake.requests) == len(briefs) == 8
    assert all(c.source == "model" for c in copies), {c.note for c in copies}
    assert copies[1].text.startswith("Hey Customer1, spring is here: 20% off with code SPRING20!\nSilk Scarf at 25.5")
    assert "Merino Wool Sweater at 79.9 EUR" in copies[2].text  # no recommendation: the brief's products
    assert copies[0].buttons[0].text == "Shop the sale"
    assert not any("Customer" in str(request) for request in fake.requests)  # persona mode sends no customer data


async def test_a_persona_draft_that_fails_for_one_recipient_falls_back_for_that_one_only(fake: FakeOpenAI) -> None:
    many = tuple(CatalogProduct(f"S-{i}", f"Sock Pack {i}", 9.0, "EUR") for i in range(20))
    writer_ = writer(fake)
    copies = await writer_.compose_many(brief(), [anna(), anna(customer_id=8, products=many), anna(customer_id=9)])
    assert [c.source for c in copies] == ["model", "fallback", "model"] and writer_.stats.calls == 1
    note = copies[1].note or ""
    assert (
        note.startswith("model copy failed: length: ") and "; fell back to the template; guardrails: length: " in note
    )


async def test_a_second_run_reads_the_cache(database: str, validator: Validator | None) -> None:
    first = FakeOpenAI(default=lambda _: api.draft(GOOD, ["Shop the sale"]), validate=validator)
    people = [anna(), anna(customer_id=8, name="Ben"), anna(customer_id=9, name="Cleo", products=())]
    one = CopyWriter(OpenAIWriter(first.client(), "gpt-4o-mini"))
    written = [*await one.compose_many(brief(), people), *await one.compose_many(brief(variant="b"), people)]
    assert one.stats.calls == 2 and one.stats.cached == 0 and one.stats.tokens == 200
    again = FakeOpenAI(validate=validator)  # no script: any request would be a problem
    two = CopyWriter(OpenAIWriter(again.client(), "gpt-4o-mini"))
    rewritten = [*await two.compose_many(brief(), people), *await two.compose_many(brief(variant="b"), people)]
    assert two.stats.calls == 0 and two.stats.cached == 2 and again.requests == []
    assert rewritten == written
    other_model = CopyWriter(OpenAIWriter(first.client(), "gpt-4.1"))
    await other_model.compose(brief(), anna())
    assert other_model.stats.calls == 1  # the model is part of the key
    assert first.problems == again.problems == []


async def test_recipient_mode_sends_only_their_own_facts_within_the_token_budget(fake: FakeOpenAI) -> None:
    people = [Recipient(i, f"Person{i} Roe", "en", ((SHIRT,), (SCARF,))[i % 2]) for i in range(10)]
    writer_ = writer(fake, mode="recipient", token_budget=350, concurrency=4)
    copies = await writer_.compose_many(brief(), people)
    assert writer_.stats.calls == len(fake.requests) == 3 and writer_.stats.tokens == 300
    assert [c.source for c in copies].count("model") == 3 and writer_.stats.fallbacks == 7
    assert all(c.note == "token budget spent; fell back to the template" for c in copies if c.source == "fallback")
    assert [c.text.split(",")[0].split("!")[0] for c in copies] == [
        f"{'Hey' if c.source == 'model' else 'Hi'} Person{i}" for i, c in enumerate(copies)
    ]
    for request in fake.requests:
        data = user_data(request)
        number = int(data["customer"]["first_name"].removeprefix("Person"))
        assert data["customer"] == {"first_name": f"Person{number}"}
        assert data["products"] == [people[number].products[0].shown()]
        assert str(request).count("Person") == 1 and "Roe" not in str(request)


async def test_recipient_mode_bounds_concurrent_calls(fake: FakeOpenAI) -> None:
    people = [anna(customer_id=i, name=f"P{i}") for i in range(12)]
    copies = await writer(fake, mode="recipient", concurrency=3).compose_many(brief(), people)
    assert [c.text.split(",")[0] for c in copies] == [f"Hey P{i}" for i in range(12)]  # in order
    assert len(fake.requests) == 12 and fake.peak == 3


async def test_a_refusal_is_asked_again_then_falls_back(fake: FakeOpenAI) -> None:
    fake.script.extend([api.refusal(), api.refusal("No.")])
    writer_ = writer(fake)
    copy = await writer_.compose(brief(), anna())
    assert copy.source == "fallback" and copy.text.startswith("Hi Anna!")
    assert copy.note == "the model refused: No. (regenerated once); fell back to the template"
    assert writer_.stats.calls == 2 and writer_.stats.tokens == 40 and writer_.stats.fallbacks == 1
    assert (await writer_.compose(brief(), anna(name="Ben"))).source == "fallback"
    assert writer_.stats.calls == 2  # the brief's outcome is kept: no more calls for it


@pytest.mark.parametrize(
    "first",
    [api.refusal(), api.malformed(), api.error(500), api.error(429, headers={"retry-after": "1"})],
    ids=["refusal", "malformed", "http-500", "http-429"],
)
async def test_one_failure_is_regenerated(fake: FakeOpenAI, first: api.Answer) -> None:
    fake.script.append(first)
    writer_ = writer(fake)
    copy = await writer_.compose(brief(), anna())
    assert copy.source == "model" and copy.text.startswith("Hey Anna, spring is here")
    assert writer_.stats.calls == 2 and fake.requests[0] == fake.requests[1]


@pytest.mark.parametrize(
    ("answers", "note"),
    [
        ([api.malformed(), api.malformed("not json")], "malformed answer: Invalid JSON"),
        ([api.error(500), api.error(503)], "model API error 503: InternalServerError"),
        ([api.draft(GOOD.replace("{{ offer.discount }}", "30%"))] * 2, "percentages: unknown percentage 30%"),
        ([api.draft(GOOD + "\nSweaters from 59.90 EUR")] * 2, "prices: unknown price 59.90 EUR"),
        ([api.draft("Hi {{ customer.first_name }}, see you!")] * 2, "unsubscribe: the unsubscribe hint is missing"),
        ([api.draft("{{ ''.__class__ }} {{ unsubscribe }}")] * 2, "template error: SecurityError"),
        ([api.draft(GOOD.replace("spring is here", "try our Cashmere Sweater"))] * 2, "unknown product"),
        ([api.draft(GOOD + "\n" + "Lovely! " * 80)] * 2, "length: "),
    ],
    ids=["malformed", "http-5xx", "percentage", "wrong-price", "no-unsubscribe", "sandbox", "product", "length"],
)
async def test_two_failures_fall_back_to_the_template(fake: FakeOpenAI, answers: list[api.Answer], note: str) -> None:
    fake.script.extend(answers)
    copy = await writer(fake).compose(brief(), anna())
    assert copy.source == "fallback" and copy.text.startswith("Hi Anna! 20% off with code SPRING20.")
    assert copy.note and note in copy.note and copy.note.endswith("(regenerated once); fell back to the template")


async def test_an_invented_discount_code_is_caught_and_regenerated_with_the_reason(fake: FakeOpenAI) -> None:
    fake.script.append(api.draft(GOOD.replace("{{ offer.code }}", "SAVE50")))
    writer_ = writer(fake)
    copies = await writer_.compose_many(brief(), [anna(), anna(customer_id=8, name="Ben")])
    assert [c.source for c in copies] == ["model", "model"] and "SAVE50" not in copies[0].text + copies[1].text
    assert writer_.stats.calls == 2
    retry = next(m["content"] for m in fake.requests[1]["messages"] if m["role"] == "user")
    assert "rejected: codes: unknown code SAVE50" in retry
    assert "rejected" not in str(fake.requests[0])


async def test_banned_phrases_in_model_copy_are_regenerated(fake: FakeOpenAI) -> None:
    fake.script.append(api.draft("Act now, {{ customer.first_name }}!\n{{ unsubscribe }}"))
    copy = await writer(fake, banned=["ACT NOW"]).compose(brief(), anna())
    assert copy.source == "model" and "banned phrase 'ACT NOW'" in fake.requests[1]["messages"][1]["content"]


async def test_model_button_labels_that_fail_are_replaced_by_the_briefs(fake: FakeOpenAI) -> None:
    fake.script.extend([api.draft(GOOD, ["Use SAVE50"]), api.draft(GOOD, ["One", "Two"])])
    writer_ = writer(fake)
    assert (await writer_.compose(brief(), anna())).buttons[0].text == "Shop now"
    assert (await writer_.compose(brief(variant="b"), anna())).buttons[0].text == "Shop now"


async def test_the_prompt_keeps_instructions_apart_from_the_data(fake: FakeOpenAI) -> None:
    await writer(fake).compose(brief(), anna())
    request = fake.requests[0]
    assert request["model"] == "gpt-4o-mini" and request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"]["required"] == ["text", "button_labels"]
    system, user = request["messages"]
    assert system["role"] == "system" and user["role"] == "user" and "<data>" not in system["content"]
    assert "{{ unsubscribe }}" in system["content"] and "500 characters" in system["content"]
    assert "playful" in system["content"] and "Hunts for deals" in system["content"]
    data = user_data(request)
    assert data["offer"]["code"] == "SPRING20" and data["products"][0]["name"] == "Merino Wool Sweater"
    assert "customer" not in data


async def test_every_request_validates_against_the_openai_schema(fake: FakeOpenAI) -> None:
    check = schema_validator(reference_file("openai", "openai_openapi.json"))
    fake.script.extend([api.draft(GOOD.replace("{{ offer.code }}", "SAVE50")), api.error(500)])
    writer_ = writer(fake, mode="recipient")
    for person in (anna(), anna(customer_id=8, name="Ben")):
        await writer_.compose(brief(), person)
    assert len(fake.requests) == 3 and all(check(request) == [] for request in fake.requests)  # Anna: 2, Ben: 1
    broken = {**fake.requests[0], "messages": [{"role": "narrator", "content": "x"}], "temperature": "hot"}
    assert len(check(broken)) == 2  # the check is not vacuous


def test_a_draft_cached_before_the_campaign_files_types_were_shared_is_still_found() -> None:
    # these keys were computed when a brief carried copies of the campaign file's offer, buttons and products
    # (OfferFact, ButtonFact, ProductFact): drafts stored then must still be found, not bought from the model again
    sweater = CatalogProduct(
        "MW-1", "Merino Wool Sweater", 79.9, "EUR", "https://shop.test/p/MW-1", "knitwear", stock=12, short="Soft."
    )
    shirt = CatalogProduct("LS-2", "Linen Shirt", 39.0, "EUR", None, "shirts", stock=3)
    buttons = (
        ButtonSpec(text="Shop now", url="https://shop.test/?c={{ offer.code }}"),
        ButtonSpec(text="Stop", action="stop"),
    )
    kept = Brief(
        campaign="spring", step="main", persona="bargain", persona_description="d", tone="playful", variant="a",
        language="en", brief="Announce.", template="Hi {{ customer.first_name }} {{ unsubscribe }}", buttons=buttons,
        offer=Offer(code="SPRING20", discount="20%", expires=date(2027, 4, 30)), products=(sweater,), max_length=500,
        shop_name="Woolly", shop_url="https://shop.test",
    )  # fmt: skip
    writer_ = CopyWriter(None)
    assert writer_._key(kept, None) == "84bf94317a3ab6945efa32124811c8e495d34d02aa1f5a68aa11650117ac9d3a"
    recipient = Recipient(7, "Anna Berg", "en", (shirt,))
    assert writer_._key(kept, recipient) == "4df315620977af943825657eefab97049a4e0638bc0e2a122fcfc20f283a51f0"


PRO = CatalogProduct("PRO-1", "*Pro* _x_ ~y~ `z`", 99.0, "EUR", "https://shop.test/p/pro_1_", "gadgets")
BOLD = "*{{ offer.discount }} off* {{ product.name }} with {{ offer.code }}: {{ product.url }}\n{{ unsubscribe }}"


def neutral(text: str) -> str:
    """A stand-in for a channel's quoting (the engine gets Slack's from its spec): every ``*`` becomes ``+``."""
    return text.replace("*", "+")


async def test_values_are_quoted_for_the_recipients_channel_and_the_template_keeps_its_formatting() -> None:
    writer = CopyWriter(store=None, data_texts={"slack": neutral})
    one = brief(template=BOLD, products=(PRO,))
    slack, verdicts = await writer.preview(one, anna(products=(), channel="slack"))
    assert slack.text == f"*20% off* +Pro+ _x_ ~y~ `z` with SPRING20: https://shop.test/p/pro_1_\n{HINT}"
    assert all(v.ok for v in verdicts)  # the guardrails read the words, not the quoting: the product is known
    telegram, _ = await writer.preview(one, anna(products=(), channel="telegram"))
    assert telegram.text == f"*20% off* *Pro* _x_ ~y~ `z` with SPRING20: https://shop.test/p/pro_1_\n{HINT}"
    assert (await writer.preview(one, anna(products=())))[0].text == telegram.text  # no channel: as it is


async def test_the_safe_text_is_all_data_and_quoted_whole() -> None:
    writer = CopyWriter(store=None, data_texts={"slack": neutral})
    copy = await writer.compose(brief(template="{{ nope }}", shop_name="*Woolly*"), anna(channel="slack"))
    assert copy.source == "fallback" and copy.text.startswith("+Woolly+: use code SPRING20 for 20% off.")


async def test_model_copy_is_filled_with_quoted_values(fake: FakeOpenAI) -> None:
    fake.default = lambda _: api.draft("*New:* {{ product.name }}. {{ unsubscribe }}", ["Shop the sale"])
    copy = await writer(fake, data_texts={"slack": neutral}).compose(
        brief(products=(PRO,)), anna(products=(), channel="slack")
    )
    assert copy.source == "model" and copy.text == f"*New:* +Pro+ _x_ ~y~ `z`. {HINT}"

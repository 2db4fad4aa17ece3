"""The assistant with a model: the real openai client on a scripted transport that answers like the API (tool
calls, then an answer), every request checked against the API's OpenAPI schema where the reference is present."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistant.llm import OpenAIAssistant
from storage.models import ChatMessage, Conversation, Event
from tests.fakes.assistant_shop import Staff, engine, say, seed
from tests.fakes.openai_api import FakeOpenAI, Validator, calls, error, refusal, said


@pytest.fixture
def validated(validator: Validator | None) -> dict[str, Any]:
    """Options for FakeOpenAI: the schema check where ../shared holds the OpenAPI document."""
    return {"validate": validator}


def model(fake: FakeOpenAI) -> OpenAIAssistant:
    return OpenAIAssistant(fake.client(), "gpt-4o-mini", shop="Stride & Trail")


async def test_the_model_calls_the_order_tool_and_answers_from_its_result(
    database: str, validated: dict[str, Any]
) -> None:
    await seed()
    fake = FakeOpenAI(
        calls(("order_status", {})),
        said("Your order A1001 (Trail Runner 2) has shipped; it cost 89.90 USD."),
        **validated,
    )
    inbound, _ = engine(model=model(fake))
    reply = await say(inbound, "where's my stuff?")
    assert reply and reply.text == "Your order A1001 (Trail Runner 2) has shipped; it cost 89.90 USD."
    assert fake.problems == []
    first, second = fake.requests
    assert [t["function"]["name"] for t in first["tools"]] == [
        "search_products", "recommend_products", "order_status", "shop_policy", "campaign_offer", "unsubscribe",
        "hand_off",
    ]  # fmt: skip
    assert first["messages"][-1] == {
        "role": "user",
        "content": "<customer_message>\nwhere's my stuff?\n</customer_message>",
    }
    assert "where's my stuff" not in first["messages"][0]["content"]  # the instructions never hold customer text
    tool_result = json.loads(second["messages"][-1]["content"])
    assert [o["order"] for o in tool_result["orders"]] == ["A1001"]
    assert second["messages"][-1]["role"] == "tool"


async def test_a_recommendation_from_the_tool_and_a_policy_quoted(database: str, validated: dict[str, Any]) -> None:
    await seed()
    fake = FakeOpenAI(
        calls(("recommend_products", {"count": 2}), ("shop_policy", {"topic": "returns"})),
        said("Try the Road Racer 5 (119.00 USD). You can return it within 60 days under our run them in promise."),
        **validated,
    )
    inbound, _ = engine(model=model(fake))
    reply = await say(inbound, "what should I buy next, and can I return it?")
    assert reply and "Road Racer 5" in reply.text and "60 days" in reply.text
    results = [json.loads(m["content"]) for m in fake.requests[1]["messages"] if m["role"] == "tool"]
    assert "RUN-TR1" not in {p["sku"] for p in results[0]["products"]}  # never what she bought
    assert all(p["in_stock"] for p in results[0]["products"])


async def test_the_model_can_unsubscribe_and_hand_off(database: str, validated: dict[str, Any]) -> None:
    shop = await seed()
    staff = Staff()
    fake = FakeOpenAI(
        calls(("hand_off", {"reason": "wants a person"})), said("A colleague will be with you."), **validated
    )
    inbound, _ = engine(model=model(fake), staff=staff)
    await say(inbound, "I'd like to speak with someone about a gift")
    assert (await Conversation.get(customer_id=shop.mia)).holder == "human" and len(staff.alerts) == 1
    fake2 = FakeOpenAI(calls(("unsubscribe", {})), said("Done."), **validated)
    inbound2, _ = engine(model=model(fake2))
    reply = await say(inbound2, "I don't want your promotions any more, thanks", chat="7002")
    assert reply and "won't get news or offers" in reply.text
    assert await Event.filter(type="opted_out", customer_id=shop.bob).count() == 1


async def test_when_the_model_fails_the_offline_assistant_still_hands_off_and_unsubscribes(
    database: str, validated: dict[str, Any]
) -> None:
    shop = await seed()
    staff = Staff()
    inbound, _ = engine(model=model(FakeOpenAI(default=lambda body: error(500), **validated)), staff=staff)
    await say(inbound, "I want to talk to a person")
    assert (await Conversation.get(customer_id=shop.mia)).holder == "human" and len(staff.alerts) == 1
    await say(inbound, "I don't want your offers any more", chat="7002")
    assert await Event.filter(type="opted_out", customer_id=shop.bob).count() == 1


async def test_too_many_tool_calls_in_a_round_are_refused(database: str, validated: dict[str, Any]) -> None:
    await seed()
    fake = FakeOpenAI(
        calls(*[("search_products", {"query": f"q{n}"}) for n in range(8)]), said("Nothing."), **validated
    )
    inbound, _ = engine(model=model(fake))
    await say(inbound, "search everything")
    results = [json.loads(m["content"]) for m in fake.requests[1]["messages"] if m["role"] == "tool"]
    assert len(results) == 8 and all("products" in r for r in results[:5])
    assert all(r == {"error": "at most 5 tool calls at a time"} for r in results[5:])


@pytest.mark.parametrize("failure", [error(500), error(429, "slow down", {"retry-after": "1"}), refusal()])
async def test_an_api_failure_or_refusal_falls_back_to_the_offline_assistant(
    database: str, validated: dict[str, Any], failure: Any
) -> None:
    await seed()
    fake = FakeOpenAI(failure, **validated)
    inbound, _ = engine(model=model(fake))
    reply = await say(inbound, "Where is my order?")
    assert reply and "A1001" in reply.text


async def test_malformed_tool_arguments_and_unknown_tools_are_answered_as_errors(
    database: str, validated: dict[str, Any]
) -> None:
    await seed()
    fake = FakeOpenAI(
        calls(("order_status", "{not json"), ("drop_tables", {})),
        said("Sorry, I could not look that up."),
        **validated,
    )
    inbound, _ = engine(model=model(fake))
    reply = await say(inbound, "order?")
    assert reply and reply.text == "Sorry, I could not look that up."
    results = [json.loads(m["content"]) for m in fake.requests[1]["messages"] if m["role"] == "tool"]
    assert results == [{"error": "the arguments are not a JSON object"}, {"error": "there is no tool 'drop_tables'"}]


async def test_memory_rereads_the_window_and_summarises_what_leaves_it(
    database: str, validated: dict[str, Any]
) -> None:
    shop = await seed()
    answers = iter(range(100))

    def script(body: dict[str, Any]) -> Any:
        if "Summarise this shop conversation" in body["messages"][0]["content"]:
            return said("Mia asked about socks and shipping.")
        return said(f"Answer {next(answers)}.")

    fake = FakeOpenAI(default=script, **validated)
    inbound, _ = engine(model=model(fake))
    for n in range(12):
        await say(inbound, f"question {n}")
    chat = await Conversation.get(customer_id=shop.mia)
    assert chat.summary == "Mia asked about socks and shipping." and chat.summarised_until is not None
    last = [r for r in fake.requests if "Summarise" not in r["messages"][0]["content"]][-1]
    summary = last["messages"][1]
    assert summary["role"] == "user"  # written from the customer's words: data, never a system message
    assert summary["content"].startswith("<customer_message>\n(summary of the conversation so far) Mia asked")
    assert all(m["role"] != "system" for m in last["messages"][1:])
    assert len([m for m in last["messages"] if m["role"] in ("user", "assistant")]) <= 13  # window + the new one
    assert await ChatMessage.filter(customer_id=shop.mia).count() == 24

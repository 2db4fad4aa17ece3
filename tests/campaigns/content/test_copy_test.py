"""``copy_test: true`` through the engine on SQLite and PostgreSQL: a hash-held share gets the template while the
model (the real openai client on the scripted transport) writes the rest; the report shows the LLM copy's lift
over the template with its interval, by assigned arm, fallbacks counted; the new keys' mistakes are located."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.audience.planner import plan, register
from campaigns.audience.sql import BUCKETS, bucket, seeds
from campaigns.content.compose import write_copy
from campaigns.content.writer import CopyWriter, OpenAIWriter
from campaigns.file.definition import Campaign, Message
from campaigns.file.loader import CampaignError, parse_campaign
from campaigns.results.experiments import experiments
from campaigns.results.report import build
from segments.definitions import parse
from storage.models import Campaign as CampaignRow
from storage.models import ChannelIdentity, Customer, Delivery, Event
from storage.reports import FunnelCell
from tests.fakes import openai_api as api
from tests.fakes.openai_api import FakeOpenAI

NOW = datetime(2027, 4, 5, 12, tzinfo=UTC)
DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
TEMPLATE = "Hi {{ customer.first_name }}, our new arrivals are in. {{ unsubscribe }}"
MODEL = "Hey {{ customer.first_name }}, fresh arrivals just landed and we kept some for you. {{ unsubscribe }}"


@pytest.fixture
def fake(fake_openai: FakeOpenAI) -> FakeOpenAI:
    """The fake API, answering MODEL by default."""
    fake_openai.default = lambda _: api.draft(MODEL)
    return fake_openai


async def crowd(n: int) -> None:
    at = NOW - timedelta(days=30)
    await Customer.bulk_create(
        [Customer(external_id=f"c{i}", name=f"Cus{i} Tomer", persona="everyone", opted_in_at=at) for i in range(n)]
    )
    ids = await Customer.all().values_list("id", flat=True)
    await ChannelIdentity.bulk_create([ChannelIdentity(customer_id=i, channel="telegram", address=str(i)) for i in ids])


async def test_the_template_arm_is_held_and_the_report_shows_the_llm_lift(database: str, fake: FakeOpenAI) -> None:
    await crowd(400)
    c = Campaign(
        id="copy", name="Copy", channels=["telegram"], message=Message(brief="New arrivals", template=TEMPLATE),
        copy_test=True, copy_test_share=0.4,
    )  # fmt: skip
    campaign_id = await register(c, "copy")
    await plan(c, campaign_id, DEFS, as_of=NOW)
    writer = CopyWriter(OpenAIWriter(fake.client(), "gpt-4o-mini"), store=None)
    await write_copy(c, campaign_id, DEFS, writer, as_of=NOW)
    assert len(fake.requests) == 1  # one brief: the template arm costs no call
    rows = (
        await Delivery.filter(campaign_id=campaign_id)
        .order_by("id")
        .values_list("id", "customer_id", "copy_arm", "copy_source", "text")
    )
    held = round(0.4 * BUCKETS)
    for _, customer_id, arm, source, text in rows:
        assert arm == ("template" if bucket(customer_id, seeds("copy", "copy_test")) < held else "llm")
        assert (source, text.split()[0]) == (("template", "Hi") if arm == "template" else ("model", "Hey"))
    shares = {arm: sum(1 for r in rows if r[2] == arm) / len(rows) for arm in ("template", "llm")}
    assert shares["template"] == pytest.approx(0.4, abs=0.07)
    await Delivery.filter(campaign_id=campaign_id).update(status="sent", sent_at=NOW)
    events, seen = [], {"llm": 0, "template": 0}
    for delivery_id, customer_id, arm, _, _ in rows:
        seen[arm] += 1
        if seen[arm] % 10 < (3 if arm == "llm" else 1):  # 30% of the LLM arm click, 10% of the template arm
            events.append(
                Event(type="clicked", customer_id=customer_id, delivery_id=delivery_id, campaign_id=campaign_id, at=NOW)
            )
    await Event.bulk_create(events)
    report = await build(await CampaignRow.get(key="copy"))
    (test,) = report.experiments
    assert (test.name, test.control, test.treated, test.fallbacks) == ("copy", "template", "llm", 0)
    clicked = test.comparisons["clicked"]
    assert test.rates["clicked"]["llm"].rate == pytest.approx(0.3, abs=0.02)
    assert 0 < clicked.low < clicked.difference < clicked.high and clicked.p_value < 0.001
    assert clicked.lift == pytest.approx(2.0, abs=0.4)  # 30% over 10%: +200%
    assert test.decision.startswith("keep the LLM copy")


def cell(arm: str, source: str, sent: int, engaged: int) -> FunnelCell:
    return FunnelCell("main", "a", "p", "telegram", "sent", "", sent, engaged, 0, 0, 0.0, 0, "", arm, source, engaged)


def test_fallbacks_count_in_the_llm_arm_and_small_tests_are_not_called() -> None:
    (test,) = experiments(
        [cell("llm", "model", 60, 9), cell("llm", "fallback", 20, 2), cell("template", "template", 50, 6)]
    )
    assert test.sent == {"template": 50, "llm": 80} and test.fallbacks == 20
    assert test.decision == "too small to call yet: keep testing"
    assert experiments([cell("", "template", 10, 1)]) == []  # no test in the campaign


def test_no_decision_while_rows_of_the_test_are_unsent_and_recurring_runs_count() -> None:
    big = [cell("llm", "model", 400, 120), cell("template", "template", 400, 40)]
    assert experiments(big)[0].decision.startswith("keep the LLM copy")
    waiting = replace(cell("llm", "model", 30, 0), status="planned")
    (test,) = experiments([*big, waiting])
    assert test.pending == 30 and test.decision.startswith("wait: 30 messages")
    assert test.sent == {"template": 400, "llm": 400}  # the rates shown are of what was sent


async def test_a_recurring_campaigns_runs_are_reported_in_its_tests(database: str) -> None:
    when = datetime(2027, 4, 5, 9, tzinfo=UTC)
    row = await CampaignRow.create(key="weekly", yaml="key: weekly", yaml_hash="x", status="running")
    customers = [await Customer.create(external_id=f"R{i}", name=f"R{i}") for i in range(4)]
    for i, (step, arm) in enumerate([("run-20270405T0900Z", "llm"), ("run-20270412T0900Z", "template")] * 2):
        source = "model" if arm == "llm" else "template"
        await Delivery.create(campaign=row, step=step, customer=customers[i], channel="telegram", status="sent",
                              sent_at=when, copy_arm=arm, copy_source=source)  # fmt: skip
    (test,) = (await build(row)).experiments
    assert test.name == "copy" and test.sent == {"template": 2, "llm": 2}


@pytest.mark.parametrize(
    ("yaml", "line", "field"),
    [
        ("schedule:\n  send_time: sometimes\n", 6, "schedule.send_time"),
        ("schedule:\n  send_time: best\n  send_time_control: 0.9\n", 7, "schedule.send_time_control"),
        ("copy_test: maybe\n", 5, "copy_test"),
        ("copy_test: true\ncopy_test_share: 0\n", 6, "copy_test_share"),
    ],
)
def test_mistakes_in_the_new_keys_name_file_line_and_field(yaml: str, line: int, field: str) -> None:
    head = "id: spring\nname: Spring\nchannels: [telegram]\nmessage: {brief: b, template: t}\n"
    with pytest.raises(CampaignError) as caught:
        parse_campaign(head + yaml, "spring.yaml")
    assert str(caught.value.problems[0]).startswith(f"spring.yaml:{line}: {field}")

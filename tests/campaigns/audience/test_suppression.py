"""Unhappy customers get no promotions, through the real engine on SQLite and PostgreSQL: customers write to the
assistant (which opens complaints), staff resolve them, campaigns are planned from their files, written and sent
through the real aiogram client to the Telegram sandbox on a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot

from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns import launch
from campaigns.audience.planner import plan, register
from campaigns.audience.suppression import NEGATIVE_FEEDBACK, OPEN_COMPLAINT, Suppression, Unhappy
from campaigns.content.writer import CopyWriter
from campaigns.delivery.dispatcher import Dispatcher, DispatchStats
from campaigns.file.definition import Audience, Campaign, Message
from campaigns.ports import InboundEvent
from campaigns.results import report
from segments.definitions import parse
from storage import complaints, conversations
from storage.models import Campaign as CampaignRow
from storage.models import Complaint, Customer, Delivery, Event, Order
from tests.fakes.assistant_shop import BOB_CHAT, MIA_CHAT, NOW, Shop, Staff, engine, say, seed
from tests.fakes.dashboard import login, serve

DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
RATES = {"telegram": 1000.0, "telegram/chat": 1000.0}
pytestmark = pytest.mark.usefixtures("database")
ANGRY = "This is junk, the sole cracked after two days. Terrible!"  # VADER: about -0.84


def campaign_file(tmp_path: Path, key: str = "spring", audience: str = "") -> Path:
    path = tmp_path / f"{key}.yaml"
    path.write_text(
        f"id: {key}\nname: Spring sale\nchannels: [telegram]\n{audience}"
        "message:\n  brief: The new spring colours are in.\n"
        "  template: 'Hi {{ customer.first_name }}: the new spring colours are in. {{ unsubscribe }}'\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def shop(database: str) -> Shop:
    return await seed()


async def prepared(path: Path, at: datetime = NOW, rule: Unhappy | None = None) -> launch.Prepared:
    return await launch.prepare(path, DEFS, CopyWriter(None), as_of=at, unhappy=rule)


async def send(bot: Bot, campaign_id: int, at: datetime = NOW, rule: Unhappy | None = None) -> DispatchStats:
    await launch.set_status(campaign_id, "running")
    suppression = Suppression(rule or Unhappy())
    dispatcher = Dispatcher(
        {"telegram": TelegramChannel(bot)}, worker="t", rates=RATES, clock=lambda: at, suppression=suppression
    )
    return await dispatcher.drain()


async def notes(campaign_id: int) -> dict[int, tuple[str, str | None]]:
    return {d.customer_id: (d.status, d.note) for d in await Delivery.filter(campaign_id=campaign_id)}


async def dashboard(path: str) -> str:
    """A page of the staff's dashboard."""
    runner, base = await serve("pw")
    try:
        async with aiohttp.ClientSession() as http, http.get(base + path, headers=login("staff", "pw")) as page:
            return await page.text()
    finally:
        await runner.cleanup()


async def test_a_complaint_suppresses_promotions_until_staff_resolve_it(
    shop: Shop, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, tmp_path: Path
) -> None:
    staff = Staff()
    inbound, _ = engine(staff=staff)
    await say(inbound, ANGRY)  # Mia: a complaint opens, and a person is asked to take over
    (complaint,) = await Complaint.filter(customer_id=shop.mia)
    assert complaint.source == "message" and complaint.resolved_at is None and "junk" in complaint.text
    assert await Event.filter(type="complaint_opened", customer_id=shop.mia).count() == 1
    (thread,) = [f"T0:C0STAFF:{n}.0001" for n, _ in enumerate(staff.alerts, 1)]
    page = await dashboard(f"/dashboard/conversations/{shop.mia}")
    assert 'id="complaint">complaint open since <strong>2027-03-10 12:00 UTC</strong>' in page

    first = await prepared(campaign_file(tmp_path))
    assert first.plan.suppressed_by == {OPEN_COMPLAINT: 1} and first.plan.planned == 1
    assert await notes(first.campaign_id) == {shop.mia: ("skipped", OPEN_COMPLAINT), shop.bob: ("queued", None)}

    # the staff write "done" in the hand-off thread: the complaint is resolved
    await inbound.handle(InboundEvent("slack", "T0:C0STAFF", "staff", text="done", payload={"thread": thread}))
    complaint = await Complaint.get(id=complaint.id)
    assert complaint.resolved_at == NOW and complaint.resolution == "staff"
    assert any("complaint is marked resolved" in text for _, text in staff.posts)
    assert 'id="complaint"' not in await dashboard(f"/dashboard/conversations/{shop.mia}")

    # the campaign is planned again before it is sent: Mia's row is back, and both go out
    again = await prepared(campaign_file(tmp_path), NOW + timedelta(hours=1))
    assert again.plan.suppressed == 0 and again.plan.planned == 1 and again.plan.already_planned == 1
    stats = await send(telegram_bot, first.campaign_id, NOW + timedelta(hours=1))
    assert stats.sent == 2 and stats.suppressed == 0
    assert "spring colours" in (telegram_sandbox.sent(int(MIA_CHAT))[-1].text or "")


async def test_a_complaint_after_planning_stops_the_send_and_the_report_says_why(
    shop: Shop, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, tmp_path: Path
) -> None:
    prepared_ = await prepared(campaign_file(tmp_path))
    assert prepared_.plan.planned == 2 and prepared_.plan.suppressed == 0
    inbound, _ = engine()  # no staff channel: no hand-off, but the complaint opens all the same
    await say(inbound, ANGRY)
    stats = await send(telegram_bot, prepared_.campaign_id, NOW + timedelta(minutes=5))
    assert stats.sent == 1 and stats.suppressed == 1 and telegram_sandbox.sent(int(MIA_CHAT)) == []
    assert (await notes(prepared_.campaign_id))[shop.mia] == ("skipped", OPEN_COMPLAINT)
    built = await report.build(await CampaignRow.get(id=prepared_.campaign_id))
    assert built.total.skipped_by == {OPEN_COMPLAINT: 1} and built.total.sent == 1
    assert built.as_dict()["funnel"]["skipped_by"] == {OPEN_COMPLAINT: 1}
    html = await dashboard("/dashboard/campaigns/spring")  # the dashboard's report page shows the same row
    row = f'data-stage="skipped:{OPEN_COMPLAINT}"><td>skipped: {OPEN_COMPLAINT}</td><td></td><td></td><td>1</td>'
    assert row in html

    # resolved with the CLI's call: the next campaign reaches her
    assert await complaints.resolve(shop.mia, at=NOW + timedelta(hours=1), how="cli") == 1
    later = await prepared(campaign_file(tmp_path, "summer"), NOW + timedelta(hours=2))
    assert later.plan.planned == 2 and later.plan.suppressed == 0
    assert (await send(telegram_bot, later.campaign_id, NOW + timedelta(hours=2))).sent == 2
    assert len(telegram_sandbox.sent(int(MIA_CHAT))) == 1


async def test_positive_feedback_resolves_the_complaint(shop: Shop, tmp_path: Path) -> None:
    inbound, _ = engine()
    await say(inbound, ANGRY)
    assert await complaints.has_open(shop.mia)
    await Order.filter(external_id="A1001").update(feedback_asked_at=NOW - timedelta(days=1))
    await say(inbound, "Actually the new pair is great, I love them, really comfy")  # feedback on her order
    (feedback,) = await conversations.Feedback.filter(customer_id=shop.mia)
    assert feedback.order_id is not None and feedback.sentiment > 0.5
    (complaint,) = await Complaint.filter(customer_id=shop.mia)
    assert complaint.resolution == "positive_feedback" and complaint.resolved_at == NOW
    assert (await prepared(campaign_file(tmp_path))).plan.planned == 2


async def test_negative_words_suppress_for_their_window_or_until_resolved(shop: Shop) -> None:
    """Scripted feedback rows and messages at given times; the mean of the last 30 days is -0.5 (the rule: -0.4)."""
    bob = await Customer.get(id=shop.bob)
    await conversations.add_feedback(bob.id, text="meh", sentiment=-0.55, themes=[], at=NOW - timedelta(days=10))
    await conversations.add_feedback(bob.id, text="so-so", sentiment=-0.45, themes=[], at=NOW - timedelta(days=5))

    async def planned(key: str, at: datetime) -> dict[int, tuple[str, str | None]]:
        definition = Campaign(id=key, name=key, channels=["telegram"], message=Message(brief="b", template="t"))
        campaign_id = await register(definition, definition.model_dump_json())
        await plan(definition, campaign_id, DEFS, as_of=at)
        return await notes(campaign_id)

    now = await planned("now", NOW)
    assert now[bob.id] == ("skipped", NEGATIVE_FEEDBACK) and now[shop.mia] == ("planned", None)
    # a month on, both pieces of feedback have left the window
    assert (await planned("later", NOW + timedelta(days=31)))[bob.id] == ("planned", None)
    # or staff resolve it: what was said before no longer counts
    await complaints.resolve(bob.id, at=NOW + timedelta(hours=1), how="dashboard")
    assert (await planned("resolved", NOW + timedelta(hours=2)))[bob.id] == ("planned", None)


async def test_staff_ending_a_hand_off_without_a_complaint_leaves_the_words_counting(shop: Shop) -> None:
    bob = await Customer.get(id=shop.bob)
    # just above the complaint mark (-0.6), so none opens; with the hand-off request (about +0.08) they average -0.42
    for days in (2, 3, 4):
        await conversations.add_feedback(bob.id, text="bad", sentiment=-0.59, themes=[], at=NOW - timedelta(days=days))
    staff = Staff()
    inbound, _ = engine(staff=staff)
    await say(inbound, "I want to talk to a person", chat=BOB_CHAT)  # a hand-off, no complaint
    (thread,) = [f"T0:C0STAFF:{n}.0001" for n, _ in enumerate(staff.alerts, 1)]
    await inbound.handle(InboundEvent("slack", "T0:C0STAFF", "staff", text="done", payload={"thread": thread}))
    assert await Event.filter(type="complaint_resolved").count() == 0
    assert not any("complaint is marked resolved" in text for _, text in staff.posts)
    definition = Campaign(id="after", name="after", channels=["telegram"], message=Message(brief="b", template="t"))
    campaign_id = await register(definition, definition.model_dump_json())
    await plan(definition, campaign_id, DEFS, as_of=NOW + timedelta(hours=1))
    assert (await notes(campaign_id))[bob.id] == ("skipped", NEGATIVE_FEEDBACK)  # still unhappy
    # the explicit resolve (chatcast customer resolve) is a decision: recorded though nothing was open
    assert await complaints.resolve(bob.id, at=NOW + timedelta(hours=2), how="cli") == 0
    assert await Event.filter(type="complaint_resolved", customer_id=bob.id).count() == 1


async def test_a_campaign_opts_out_of_the_suppression_only_explicitly(
    shop: Shop, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, tmp_path: Path
) -> None:
    await complaints.open_complaint(shop.mia, at=NOW - timedelta(days=1), source="message", text="broken")
    default = await prepared(campaign_file(tmp_path, "default"))
    assert (await notes(default.campaign_id))[shop.mia] == ("skipped", OPEN_COMPLAINT)
    opted_out = await prepared(campaign_file(tmp_path, "regardless", "audience: {suppress_unhappy: false}\n"))
    assert opted_out.plan.suppressed == 0 and opted_out.plan.planned == 2
    # the dispatcher reads the same choice from the registered file: the row goes despite the open complaint
    stats = await send(telegram_bot, opted_out.campaign_id, NOW + timedelta(minutes=1))
    assert stats.sent == 2 and stats.suppressed == 0 and len(telegram_sandbox.sent(int(MIA_CHAT))) == 1
    # the shop's rule off: campaigns follow it, unless one asks for the suppression itself
    off = Unhappy(enabled=False)
    assert (await prepared(campaign_file(tmp_path, "shop-off"), rule=off)).plan.suppressed == 0
    strict = await prepared(campaign_file(tmp_path, "strict", "audience: {suppress_unhappy: true}\n"), rule=off)
    assert strict.plan.suppressed_by == {OPEN_COMPLAINT: 1}
    assert Unhappy().applies(Campaign(id="x", name="x", channels=["telegram"], audience=Audience(),
                                      message=Message(brief="b", template="t")))  # fmt: skip


async def test_holdout_and_suppression_do_not_mix(shop: Shop, tmp_path: Path) -> None:
    """Suppression comes first: an unhappy customer is neither sent nor held out (the lift compares like with like)."""
    await complaints.open_complaint(shop.mia, at=NOW, source="message", text="broken")
    prepared_ = await prepared(campaign_file(tmp_path, "held", "audience: {holdout: 0.5}\n"))
    statuses = await notes(prepared_.campaign_id)
    assert statuses[shop.mia] == ("skipped", OPEN_COMPLAINT)
    assert (
        prepared_.plan.audience == 2
        and prepared_.plan.suppressed + prepared_.plan.planned + prepared_.plan.holdout == 2
    )

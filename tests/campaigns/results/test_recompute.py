"""An independent recompute of every figure of the campaign report, on SQLite and PostgreSQL.

A campaign with known outcomes goes through the engine's own paths: planned by the launch (three variants, the
second marked ``control``, a holdout), sent by the dispatcher with tracked links (some customers have blocked the
bot: they stay in the treated group), a follow-up; link clicks through the redirect's recording, "Not now" and
Unsubscribe pressed through the inbound engine, orders imported before and after the send in two currencies, one
credited order later cancelled by the webhook's path, a partial return. The test then rebuilds each figure from the
raw rows (deliveries, events, orders) with its own SQL-free Python, scipy and statsmodels, and compares it with the
JSON report: funnel, customers, revenue per currency, links, variants (Wilson intervals, z-tests, Newcombe
differences, Holm's correction), the intent-to-treat and per-protocol lift, days and the window.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from bots.inbound.acts import Inbound
from campaigns import launch
from campaigns.content.writer import CopyWriter
from campaigns.delivery.clicks import follow
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.delivery.links import LinkTokens, TrackedLinks
from campaigns.jobs import follow_ups
from campaigns.ports import InboundEvent, OutboundMessage, RecipientUnreachable, SendReceipt
from campaigns.results.attribution import attribute, crediting
from campaigns.results.report import build
from segments.definitions import parse
from storage.importers import import_file
from storage.models import Campaign, Delivery, Event, Order, Product
from storage.orders import upsert_order
from tests.fakes.channels import RecordingChannel
from tests.fakes.clock import Clock
from tests.fakes.dispatch_worker import NO_LIMITS, add_customers

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
PEOPLE = 120
BLOCKED = {3, 17, 44, 71, 98}  # have blocked the bot: their sends fail, they stay assigned
DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
CAMPAIGN = """\
id: recompute
name: Recompute
channels: [telegram]
attribution_days: 7
audience:
  holdout: 20%
message:
  brief: The sale.
  template: 'Hi {{ customer.first_name }}, the sale: https://shop.example.com/sale. {{ unsubscribe }}'
  buttons:
    - {text: Shop now, url: "https://shop.example.com/p/RUN-1"}
    - {text: Not now, action: snooze}
follow_ups:
  - id: reminder
    after: 1d
    when: [not_clicked]
    message:
      brief: A reminder.
      template: 'Still on, {{ customer.first_name }}: https://shop.example.com/sale {{ unsubscribe }}'
variants:
  - {id: a}
  - {id: b, control: true}
  - {id: c}
"""
SECRET = "recompute-secret"
BASE = "https://links.example.com"


class Channel(RecordingChannel):
    """Delivers every message, but a blocked customer's chat refuses it as Telegram does."""

    async def send(self, message: OutboundMessage) -> SendReceipt:
        if int(message.address) - 80_000_000 in BLOCKED:
            raise RecipientUnreachable("Forbidden: bot was blocked by the user")
        return await super().send(message)


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson interval, from its formula."""
    z = norm.isf(0.025)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def z_test(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p of the pooled two-proportion z-test, from its formula."""
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * norm.sf(abs(k1 / n1 - k2 / n2) / se))


def holm(ps: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    adjusted, running = [0.0] * len(ps), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
        adjusted[i] = running
    return adjusted


async def scenario(tmp_path: Path) -> tuple[int, RecordingChannel]:
    """The campaign lived through the engine; its id and the channel that carried it."""
    chats = [str(80_000_000 + n) for n in range(PEOPLE)]
    await add_customers("telegram", chats, first_id=1)
    await Product.create(sku="RUN-1", name="Runner", category="running-shoes", price=90, currency="EUR")
    history = tmp_path / "history.csv"  # imported before the send: placed before it, credited to nothing
    history.write_text(
        "order_id,line,customer_id,ordered_at,status,currency,discount_code,sku,quantity,unit_price\n"
        + "".join(f"H{n},1,c{n},{T0 - timedelta(days=20):%Y-%m-%dT%H:%M:%S+00:00},delivered,EUR,,RUN-1,1,80\n"
                  for n in range(1, 30))
    )  # fmt: skip
    assert (await import_file("orders", history, credits=crediting(lambda: T0))).imported == 29
    path = tmp_path / "recompute.yaml"
    path.write_text(CAMPAIGN, encoding="utf-8")
    prepared = await launch.prepare(path, DEFS, CopyWriter(None), as_of=T0)
    await launch.set_status(prepared.campaign_id, "running")
    clock = Clock(T0)
    channel = Channel(clock)
    links = TrackedLinks(LinkTokens(SECRET), BASE)
    dispatcher = Dispatcher({"telegram": channel}, worker="w", rates=NO_LIMITS, clock=clock, sleep=clock.sleep,
                            links=links)  # fmt: skip
    await dispatcher.drain()
    campaign_id = prepared.campaign_id
    sent = await Delivery.filter(campaign_id=campaign_id, step="main", status="sent").order_by("customer_id")
    tokens = LinkTokens(SECRET)
    by_chat = {(m.step, m.address): m for m in channel.messages}
    inbound = Inbound(None, clock=lambda: T0 + timedelta(hours=5))
    for i, row in enumerate(sent):
        message = by_chat[(row.step, row.address)]
        found = re.findall(re.escape(BASE) + r"/l/([A-Za-z0-9_-]+)", message.text + " ".join(
            b.url or "" for b in message.buttons))  # fmt: skip
        if i % 3 == 0:  # opens the link in the text, every fifth twice
            for _ in range(2 if i % 5 == 0 else 1):
                assert await follow(tokens, found[0], at=T0 + timedelta(hours=2)) is not None
        if i % 7 == 1:  # the shop button
            assert await follow(tokens, found[-1], at=T0 + timedelta(hours=3)) is not None
        if i % 4 == 2:  # "Not now"
            await press(inbound, row, "snooze")
        if i % 19 == 5:  # Unsubscribe, within the window
            await press(inbound, row, "stop")
    # orders after the send: credited; EUR and JPY; one later cancelled, one partly returned
    for i, row in enumerate(sent):
        if i % 4 == 0:
            currency, price = ("JPY", 12000) if i % 8 == 0 else ("EUR", 60 + i)
            await order(f"W{i}", row.customer_id, T0 + timedelta(days=1, hours=i % 20), currency, price)
    held = await Delivery.filter(campaign_id=campaign_id, status="holdout").order_by("customer_id")
    for i, row in enumerate(held):
        if i % 3 == 0:
            await order(f"X{i}", row.customer_id, T0 + timedelta(days=2), "EUR", 70)
    after = tmp_path / "after.csv"  # an import after the send: credited like the webhook's
    rows = [r for i, r in enumerate(sent) if i % 4 == 1][:6]
    after.write_text(
        "order_id,line,customer_id,ordered_at,status,currency,discount_code,sku,quantity,unit_price\n"
        + "".join(f"I{r.customer_id},1,c{r.customer_id},{(T0 + timedelta(days=3)).isoformat()},paid,EUR,,RUN-1,1,50\n"
                  for r in rows)
    )  # fmt: skip
    await import_file("orders", after, credits=crediting(lambda: T0 + timedelta(days=4)))
    first = sent[0].customer_id
    await order("W0", first, T0 + timedelta(days=1), "JPY", 12000, status="cancelled")  # cancelled after credit
    # the follow-up to those who did not click, planned by the scheduler's sweep once its day has passed
    clock.advance(timedelta(days=1, minutes=1).total_seconds())
    assert (await follow_ups(CopyWriter(None), DEFS, "Shop", now=clock()))["recompute"] > 0
    await dispatcher.drain()
    return campaign_id, channel


async def press(inbound: Inbound, row: Delivery, action: str) -> None:
    """The customer presses a button of the message: the inbound engine records it by its meaning."""
    payload = {"action": action, "campaign_id": str(row.campaign_id), "step": row.step}
    await inbound.handle(InboundEvent(channel="telegram", address=row.address or "", kind="click", payload=payload))


async def order(key: str, customer_id: int, at: datetime, currency: str, price: float, status: str = "paid") -> None:
    """The shop's order webhook's path: stored, then credited."""
    body = {"order_id": key, "customer_id": f"c{customer_id}", "ordered_at": at.isoformat(), "status": status,
            "currency": currency, "lines": [{"sku": "RUN-1", "quantity": 1, "unit_price": price}]}  # fmt: skip
    await attribute(await upsert_order(body), now=lambda: at + timedelta(minutes=1))


@pytest.mark.slow
async def test_every_figure_of_the_report_recomputed_from_the_raw_rows(database: str, tmp_path: Path) -> None:
    campaign_id, _ = await scenario(tmp_path)
    now = T0 + timedelta(days=30)
    report = await build(await Campaign.get(id=campaign_id), now=now, shop_currency="EUR", rates={"JPY": 0.006})
    data: dict[str, Any] = report.as_dict()
    rows = await Delivery.filter(campaign_id=campaign_id)
    events = await Event.filter(campaign_id=campaign_id)
    opt_outs = await Event.filter(type="opted_out")
    orders = await Order.all()

    # messages, by status, and what they led to
    status = Counter(r.status for r in rows)
    funnel = data["funnel"]
    assert (funnel["targeted"], funnel["sent"], funnel["holdout"]) == (len(rows), status["sent"], status["holdout"])
    assert (funnel["skipped"], funnel["failed"]) == (status["skipped"], status["failed"])
    blocked = [r for r in rows if r.step == "main" and r.customer_id - 1 in BLOCKED and r.status != "holdout"]  # type: ignore[attr-defined]
    assert blocked and {r.status for r in blocked} == {"skipped"}  # the block found at the send
    clicked = {e.delivery_id for e in events if e.type == "clicked"}  # type: ignore[attr-defined]
    snoozed = {e.delivery_id for e in events if e.type == "snoozed"}  # type: ignore[attr-defined]
    credits = [e for e in events if e.type == "converted"]
    standing = [e for e in credits if not e.data.get("void")]
    assert any(e.data.get("void") for e in credits)  # the cancelled order's credit is void, and not counted
    assert (funnel["clicked"], funnel["snoozed"]) == (len(clicked), len(snoozed))
    assert funnel["converted"] == len({e.delivery_id for e in standing})  # type: ignore[attr-defined]
    assert funnel["orders"] == len(standing)
    revenue: dict[str, float] = defaultdict(float)
    for e in standing:
        revenue[e.data["currency"]] += float(e.data["total"])
    assert funnel["revenue"] == pytest.approx(dict(revenue)) and set(revenue) == {"EUR", "JPY"}
    shop = revenue["EUR"] + revenue["JPY"] * 0.006
    assert data["revenue"]["in_shop_currency"] == pytest.approx(shop)
    by_row = {r.id: r for r in rows}
    left = {
        r.id for r in rows if r.sent_at
        for o in opt_outs if o.customer_id == r.customer_id and r.sent_at <= o.at <= r.sent_at + timedelta(days=7)  # type: ignore[attr-defined]
    }  # fmt: skip
    assert funnel["opted_out"] == len(left) > 0

    # customers, each once
    reached = {r.customer_id for r in rows if r.status == "sent"}  # type: ignore[attr-defined]
    customers = data["customers"]
    assert customers["reached"] == len(reached) < funnel["sent"]  # the follow-up's customers count once
    assert customers["clicked"] == len({by_row[d].customer_id for d in clicked})  # type: ignore[attr-defined]
    assert customers["converted"] == len({e.customer_id for e in standing})  # type: ignore[attr-defined]
    main = [r for r in rows if r.step == "main"]
    assert customers["assigned"] == sum(r.status != "holdout" for r in main)
    assert customers["rates"]["conversion_rate"] == pytest.approx(customers["converted"] / len(reached))
    assert data["revenue"]["per_recipient"] == pytest.approx({c: v / len(reached) for c, v in revenue.items()})

    # links: every click an event, messages counted once
    per_link: dict[str, list[int]] = defaultdict(list)
    for e in events:
        if e.type == "clicked":
            per_link[e.data["url"]].append(e.delivery_id)  # type: ignore[attr-defined]
    assert {x["url"]: (x["clicks"], x["messages"]) for x in data["links"]} == {
        url: (len(ids), len(set(ids))) for url, ids in per_link.items()
    }
    assert data["links_tracked"] is True

    # variants of the first step: the baseline is the one marked control; Holm over the two comparisons
    converted_rows = {e.delivery_id for e in standing}  # type: ignore[attr-defined]
    arms = {v: [r for r in main if r.variant == v and r.status == "sent"] for v in ("a", "b", "c")}
    hits = {v: sum(r.id in converted_rows for r in arms[v]) for v in arms}
    assert data["baseline"] == "b" and list(data["variants"]) == ["b", "a", "c"]
    for v, arm in arms.items():
        got = data["variants"][v]
        low, high = wilson(hits[v], len(arm))
        assert (got["successes"], got["trials"]) == (hits[v], len(arm))
        assert (got["low"], got["high"]) == (pytest.approx(low), pytest.approx(high))
        assert (low, high) == pytest.approx(proportion_confint(hits[v], len(arm), method="wilson"))
    raw = [z_test(hits[v], len(arms[v]), hits["b"], len(arms["b"])) for v in ("a", "c")]
    assert data["correction"] == "Holm"
    for comparison, p, adjusted, v in zip(data["ab"], raw, holm(raw), ("a", "c"), strict=True):
        assert (comparison["a"], comparison["b"]) == ("b", v)
        assert comparison["p_value"] == pytest.approx(p) and comparison["p_adjusted"] == pytest.approx(adjusted)
        difference = hits[v] / len(arms[v]) - hits["b"] / len(arms["b"])
        low, high = confint_proportions_2indep(hits[v], len(arms[v]), hits["b"], len(arms["b"]), method="newcomb")
        assert comparison["difference"] == pytest.approx(difference)
        assert (comparison["low"], comparison["high"]) == (pytest.approx(low), pytest.approx(high))
        assert comparison["verdict"] == "too small to call"  # under 100 customers an arm

    # the lift: intent to treat over the same span for both groups; per protocol beside it
    sends = [r.sent_at for r in main if r.sent_at]
    since, until = min(sends), max(sends) + timedelta(days=7)
    lapsed = {"cancelled", "refunded", "returned"}
    buyers = {
        o.customer_id for o in orders if not o.is_return and o.status not in lapsed and since <= o.ordered_at <= until
    }  # type: ignore[attr-defined]
    assigned = [r for r in main if r.status != "holdout"]
    holdout = [r for r in main if r.status == "holdout"]
    reached_main = [r for r in main if r.status == "sent"]
    lift = data["lift_over_holdout"]
    for group, members in (("assigned", assigned), ("holdout", holdout), ("reached", reached_main)):
        bought = sum(r.customer_id in buyers for r in members)  # type: ignore[attr-defined]
        assert (lift[group]["successes"], lift[group]["trials"]) == (bought, len(members)), group
    assert lift["assigned"]["trials"] > lift["reached"]["trials"]  # the blocked stay in the treated group
    itt = lift["itt"]
    a, h = lift["assigned"], lift["holdout"]
    assert itt["difference"] == pytest.approx(a["successes"] / a["trials"] - h["successes"] / h["trials"])
    assert itt["p_value"] == pytest.approx(z_test(a["successes"], a["trials"], h["successes"], h["trials"]))
    assert not data["window_open"] and data["window_until"] == until.isoformat()

    # days: sent per day and credited orders per day
    sent_days = Counter(r.sent_at.date().isoformat() for r in rows if r.status == "sent" and r.sent_at)
    credit_days = Counter(e.at.date().isoformat() for e in standing)
    assert {d["day"]: d["sent"] for d in data["daily"] if d["sent"]} == dict(sent_days)
    assert {d["day"]: d["converted"] for d in data["daily"] if d["converted"]} == dict(credit_days)

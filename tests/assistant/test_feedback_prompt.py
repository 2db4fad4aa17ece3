"""The feedback question after an order: asked once, only of subscribed customers with a reachable chat, and run by
the scheduler as one of the root's extra jobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import time_machine

from assistant.feedback import ask_for_feedback
from campaigns.scheduler import PeriodicJob, Scheduler
from chatcast.channels import identity_columns
from storage import importers
from storage.models import ChannelIdentity, ChatMessage, Customer, Order
from tests.fakes.assistant_shop import Outbox, seed

# customers files link chat identities through the registry's columns, as the CLI imports them
import_file = partial(importers.import_file, identities=identity_columns())


async def test_each_order_is_asked_about_once_after_the_delay(database: str) -> None:
    shop = await seed()  # orders placed 2027-03-05
    outbox = Outbox()
    early, due = datetime(2027, 3, 7, tzinfo=UTC), datetime(2027, 3, 13, tzinfo=UTC)
    assert await ask_for_feedback({"telegram": outbox}, 7, now=early) == 0  # too early
    await Customer.filter(id=shop.bob).update(opted_out_at=datetime(2027, 3, 12, tzinfo=UTC))
    assert await ask_for_feedback({"telegram": outbox}, 7, now=due) == 1
    assert await ask_for_feedback({"telegram": outbox}, 7, now=due) == 0  # never twice
    (asked,) = outbox.sent
    assert asked.address == "7001" and asked.text.startswith("Hi Mia! How are you getting on with Trail Runner 2?")
    assert asked.idempotency_key == "feedback:" + str((await Order.get(external_id="A1001")).id)
    assert await ChatMessage.filter(customer_id=shop.mia, role="assistant").count() == 1
    assert (await Order.get(external_id="B2002")).feedback_asked_at is None  # Bob opted out: not asked


async def test_an_unreachable_chat_or_an_old_order_is_not_asked(database: str) -> None:
    await seed()
    await ChannelIdentity.filter(address="7001").update(reachable=False)
    outbox = Outbox()
    assert await ask_for_feedback({"telegram": outbox}, 7, now=datetime(2027, 3, 13, tzinfo=UTC)) == 1  # Bob only
    await Order.all().update(feedback_asked_at=None)
    months_later = datetime(2027, 6, 1, tzinfo=UTC)
    assert await ask_for_feedback({"telegram": outbox}, 7, now=months_later) == 0  # too old to ask about
    assert [m.address for m in outbox.sent] == ["7002"]


async def test_the_scheduler_runs_the_roots_extra_jobs_at_start() -> None:
    ran: list[str] = []
    done = asyncio.Event()

    async def job(name: str) -> None:
        ran.append(name)
        done.set()

    scheduler = Scheduler(extra_jobs=[PeriodicJob("feedback", job, 3600, ("feedback",))])
    scheduler.start()
    try:
        assert "feedback" in scheduler.describe()["jobs"]
        await asyncio.wait_for(done.wait(), 10)
    finally:
        scheduler.shutdown()
    assert ran == ["feedback"]


async def test_history_an_import_brings_is_never_asked_about_nor_crowds_out_an_order_due(
    database: str, tmp_path: Path
) -> None:
    """Orders placed more than ``after_days`` before Chatcast first saw them were due before it knew of them."""
    connected = datetime(2027, 3, 1, 10, tzinfo=UTC)

    def day(offset: int) -> str:
        return (connected + timedelta(days=offset)).isoformat()

    (tmp_path / "c.csv").write_text(f"external_id,name,opted_in_at,telegram_chat_id\nC1,Ada Byron,{day(-90)},9001\n")
    (tmp_path / "p.csv").write_text("sku,name,price\nRUN-1,Trail Runner,89.9\nSOX-1,Merino Socks,14.5\n")
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,ordered_at,sku,quantity,unit_price,status\n"
        f"H0,C1,{day(-12)},RUN-1,1,89.9,delivered\nH1,C1,{day(-10)},RUN-1,1,89.9,delivered\n"
        f"N1,C1,{day(-2)},SOX-1,1,14.5,shipped\n"
    )
    with time_machine.travel(connected, tick=False):
        for kind in ("customers", "products", "orders"):
            assert (await import_file(kind, tmp_path / f"{kind[0]}.csv")).bad == 0
    ada = await Customer.get(external_id="C1")
    legacy = await Order.create(external_id="L1", customer=ada, ordered_at=connected - timedelta(days=2))  # pre-0014
    outbox = Outbox()
    assert await ask_for_feedback({"telegram": outbox}, 7, now=connected) == 0  # the first run: all history
    later = connected + timedelta(days=6)
    assert await ask_for_feedback({"telegram": outbox}, 7, limit=1, now=later) == 1  # H0, H1 do not take the place
    assert await ask_for_feedback({"telegram": outbox}, 7, now=later) == 1
    assert [m.text.split("? ")[0] for m in outbox.sent] == [
        "Hi Ada! How are you getting on with Merino Socks",
        "Hi Ada! How are you getting on with your order",
    ]
    asked = await Order.filter(feedback_asked_at__not_isnull=True).values_list("external_id", flat=True)
    assert sorted(asked) == ["L1", "N1"] and legacy.seen_at is None

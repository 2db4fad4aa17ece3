"""The feedback question after an order: asked once, only of subscribed customers with a reachable chat, and run by
the scheduler as one of the root's extra jobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from assistant.feedback import ask_for_feedback
from campaigns.scheduler import PeriodicJob, Scheduler
from storage.models import ChannelIdentity, ChatMessage, Customer, Order
from tests.assistant.shop import Outbox, seed


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

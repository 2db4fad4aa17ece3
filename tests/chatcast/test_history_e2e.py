"""History is not news: a shop loads its past orders into an empty database with ``chatcast import``, then runs
``chatcast serve``. Nobody is told about an order's past (no order notice, no feedback question), while what
happens after the import reaches the customer: a webhook status change, a later export's fresh change, and the
feedback question about an order Chatcast knew of in time. On a travelling clock, through the CLI, serve's
webhook and the Telegram sandbox (which checks every request against the Bot API spec)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import time_machine

from chatcast.settings import Settings
from storage import db
from tests.fakes.cli import invoke
from tests.fakes.databases import truncate
from tests.fakes.dispatch_worker import TOKEN
from tests.fakes.sandboxes import CountingSandbox
from tests.fakes.service import start

pytestmark = pytest.mark.slow

HOOK = "history-hook-secret"
ADA, BEN = 8101, 8102
T0 = datetime(2027, 3, 1, 10, tzinfo=UTC)  # the day the shop connects Chatcast
HEADER = "order_id,line,customer_id,ordered_at,sku,quantity,unit_price,status,status_changed_at\n"


def day(offset: float) -> str:
    return (T0 + timedelta(days=offset)).isoformat()


async def empty(url: str) -> None:
    async with db.database(url):
        if url.startswith("postgres"):
            await truncate()


async def serve(url: str, tmp_path: Path, calls: list[dict[str, Any]], messages: int) -> list[tuple[int, str]]:
    """Run serve until the Telegram sandbox has ``messages``, after posting ``calls`` to the orders webhook (each
    answered with its ``notices_queued``); the (chat, text) of every message sent."""
    async with CountingSandbox() as telegram:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path, database_url=url, segments_file=tmp_path / "none.yaml", order_webhook_secret=HOOK,
            telegram_bot_token=TOKEN, telegram_api_url=telegram.base_url, telegram_chat_rate_per_second=100,
        )  # fmt: skip
        state, stop, task = await start(settings, port=0)
        try:
            async with aiohttp.ClientSession() as http:
                for body, queued in ((c["body"], c["queued"]) for c in calls):
                    headers = {"X-Chatcast-Secret": HOOK}
                    async with http.post(f"{state.url}/hooks/orders", json=body, headers=headers) as response:
                        answer = await response.json()
                        assert response.status == 200 and answer["notices_queued"] == queued, answer
            await asyncio.wait_for(telegram.reached(messages), 60)
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
        assert telegram.violations == []
        return [(chat, m.text or "") for chat in (ADA, BEN) for m in telegram.sent(chat)]


def hook(order_id: str, customer: str, ordered: float, status: str, **extra: Any) -> dict[str, Any]:
    line = {"sku": "RUN-1", "quantity": 1, "unit_price": 89.9}
    return {"order_id": order_id, "customer_id": customer, "ordered_at": day(ordered), "status": status,
            "lines": [line], **extra}  # fmt: skip


def test_imported_history_sends_nothing_and_what_happens_after_reaches_the_customer(
    backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    asyncio.run(empty(backend))
    (isolated / "customers.csv").write_text(
        "external_id,name,opted_in_at,telegram_chat_id\n"
        f"C1,Ada Byron,{day(-400)},{ADA}\nC2,Ben Okri,{day(-400)},{BEN}\n",
        encoding="utf-8",
    )
    (isolated / "products.csv").write_text("sku,name,price\nRUN-1,Trail Runner,89.9\n", encoding="utf-8")
    (isolated / "orders.csv").write_text(
        HEADER
        + f"H1,1,C1,{day(-10)},RUN-1,1,89.9,delivered,\n"  # asked about on day -3, had Chatcast been there
        + f"H2,1,C2,{day(-20)},RUN-1,1,89.9,delivered,{day(-15)}\n"
        + f"H3,1,C2,{day(-2)},RUN-1,1,89.9,paid,\n"  # placed just before: its question falls due on day 5
        # an export with a row per status change: the later row lands in a later batch (--batch-size 1)
        + f"H4,1,C1,{day(-9)},RUN-1,1,89.9,paid,\nH4,1,C1,{day(-9)},RUN-1,1,89.9,shipped,\n",
        encoding="utf-8",
    )

    with time_machine.travel(T0, tick=True):
        invoke.ok("import", "customers", "customers.csv")
        invoke.ok("import", "products", "products.csv")
        output = invoke.ok("import", "orders", "orders.csv", "--batch-size", "1")
        assert "5 rows read, 5 imported, 0 bad" in output and "queued" not in output  # history: no notice
        first = asyncio.run(
            serve(
                backend,
                isolated,
                [
                    # the shop dates this refund a week back: history, however it arrives
                    {"body": hook("H1", "C1", -10, "refunded", status_changed_at=day(-7)), "queued": 0},
                    {"body": hook("H3", "C2", -2, "shipped"), "queued": 1},  # happening now: news
                ],
                messages=1,
            )
        )
    assert len(first) == 1 and first[0][0] == BEN and first[0][1].startswith("Your order H3 is on its way."), first

    (isolated / "later.csv").write_text(
        HEADER
        + f"H2,1,C2,{day(-20)},RUN-1,1,89.9,refunded,{day(1)}\n"  # five days before this import: history
        + f"H3,1,C2,{day(-2)},RUN-1,1,89.9,delivered,{day(5)}\n",  # yesterday: news
        encoding="utf-8",
    )
    with time_machine.travel(T0 + timedelta(days=6), tick=True):
        output = invoke.ok("import", "orders", "later.csv")
        assert "1 order notice queued" in output
        # the notice, and the feedback question about H3 (due on day 5); H1, H2 and H4 are history
        second = asyncio.run(serve(backend, isolated, [], messages=2))
    assert len(second) == 2 and all(chat == BEN for chat, _ in second), second
    question, notice = sorted(text for _, text in second)
    assert question.startswith("Hi Ben! How are you getting on with Trail Runner?")
    assert notice.startswith("Your order H3 has been delivered.")

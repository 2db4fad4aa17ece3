"""Order notices end to end: the shop posts status changes to a running ``chatcast serve``; its dispatcher sends each
notice once through the real aiogram and slack-sdk code to the Telegram and Slack sandboxes (which check every
request against the official specs), with a tracking button that leads to the carrier's page. A duplicate call
sends nothing new; a customer opted out of marketing still gets notices; one who said STOP NOTICES gets none."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bots.slack.channel import address
from bots.slack.sandbox.server import SlackSandbox
from chatcast.settings import Settings
from storage.models import Campaign, ChannelIdentity, Customer, Delivery, OrderNotice, Product
from tests.fakes.dispatch_worker import TOKEN
from tests.fakes.environment import reference_file
from tests.fakes.sandboxes import CountingSandbox
from tests.fakes.service import start

HOOK, SIGNING, TEAM, SARA_USER = "notices-hook-secret", "notices-signing-secret", "T0SHOP", "U0SARA"
TOM_CHAT, NORA_CHAT = 7101, 7103
NOW = datetime.now(UTC)
EXPECTED, LATER = datetime(2027, 4, 12, 15, tzinfo=UTC), datetime(2027, 4, 15, 15, tzinfo=UTC)


@pytest.fixture
async def carrier() -> AsyncIterator[str]:
    """The carrier's tracking site on loopback: /track/<code> is the parcel's page."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=f"Parcel {request.match_info['code']}: in transit")

    app = web.Application()
    app.router.add_get("/track/{code}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def customer(key: str, language: str = "en", chat: tuple[str, str] | None = None, **fields: Any) -> None:
    found = await Customer.create(external_id=key, name=key, language=language, opted_in_at=NOW, **fields)
    if chat:
        await ChannelIdentity.create(customer=found, channel=chat[0], address=chat[1])


def order(order_id: str, customer_id: str, status: str, **extra: Any) -> dict[str, Any]:
    line = {"sku": "RUN-1", "quantity": 1, "unit_price": 89.9}
    body = {"order_id": order_id, "customer_id": customer_id, "ordered_at": NOW.isoformat(), "lines": [line]}
    return body | {"status": status, **extra}


async def test_shipped_delayed_and_delivered_reach_each_customer_once_with_a_working_tracking_button(
    database: str, tmp_path: Path, carrier: str
) -> None:
    await Product.create(sku="RUN-1", name="Runner", price=89.9)
    await customer("TOM", chat=("telegram", str(TOM_CHAT)), opted_out_at=NOW)  # no marketing, yet notices
    await customer("SARA", "de-AT", chat=("slack", address(TEAM, SARA_USER)))
    await customer("NORA", chat=("telegram", str(NORA_CHAT)))
    await customer("PAUL")  # no chat linked: nothing to send, nothing fails
    spec = reference_file("slack", "slack_web_openapi_v2.json")
    async with (
        CountingSandbox(spec=reference_file("telegram", "telegram_bot_api_10.1.json")) as telegram,
        SlackSandbox(spec=spec, signing_secret=SIGNING) as slack,
    ):
        bot_token = slack.add_team(TEAM, name="Shop")
        slack.add_user(TEAM, SARA_USER, name="sara", real_name="Sara")
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path, database_url=database, segments_file=tmp_path / "none.yaml",
            order_webhook_secret=HOOK, telegram_bot_token=TOKEN, telegram_api_url=telegram.base_url,
            slack_bot_token=bot_token, slack_signing_secret=SIGNING,
            slack_api_url=slack.base_url, telegram_chat_rate_per_second=100, slack_channel_rate_per_second=100,
        )  # fmt: skip
        state, stop, task = await start(settings, port=0)
        try:
            await telegram.user_sends(NORA_CHAT, "STOP NOTICES")  # by long polling, to the engine
            await asyncio.wait_for(telegram.reached(1), 30)
            assert "won't send you order updates" in (telegram.sent(NORA_CHAT)[-1].text or "")
            async with aiohttp.ClientSession() as http:

                async def post(body: dict[str, Any]) -> int:
                    headers = {"X-Chatcast-Secret": HOOK}
                    async with http.post(f"{state.url}/hooks/orders", json=body, headers=headers) as response:
                        answer = await response.json()
                        assert response.status == 200, answer
                        return int(answer["notices_queued"])

                for number, who in (("T-1", "TOM"), ("S-2", "SARA"), ("N-3", "NORA"), ("P-4", "PAUL")):
                    tracked = {"tracking_url": f"{carrier}/track/{number}", "carrier": "DHL"}
                    steps = [
                        order(number, who, "shipped", expected_at=EXPECTED.isoformat(), **tracked),
                        order(number, who, "delayed", expected_at=LATER.isoformat()),  # tracking kept
                        order(number, who, "delivered"),
                    ]
                    told = 1 if who in ("TOM", "SARA") else 0
                    for body in steps:
                        assert await post(body) == told
                        assert await post(body) == 0  # the shop sent it twice: nothing new

                await asyncio.wait_for(telegram.reached(4), 30)
                await slack.wait_for(lambda: len(slack.dm(TEAM, SARA_USER)) == 3, timeout=30)
                tom = telegram.sent(TOM_CHAT)
                sara = slack.dm(TEAM, SARA_USER)
                links = [m.reply_markup["inline_keyboard"][0][0]["url"] for m in tom if m.reply_markup]
                links += [m.buttons()[0]["url"] for m in sara]
                assert links == [f"{carrier}/track/T-1"] * 3 + [f"{carrier}/track/S-2"] * 3
                for link in {*links}:  # following the button reaches the parcel's page
                    async with http.get(link) as response:
                        assert response.status == 200 and "in transit" in await response.text()
        finally:
            stop.set()
            stats = await asyncio.wait_for(task, 60)
        assert telegram.violations == [] and slack.violations == []
    texts = [m.text or "" for m in tom]
    assert len(texts) == 3 and "on its way with DHL" in texts[0] and "12 April 2027" in texts[0]
    assert "delayed" in texts[1] and "15 April 2027" in texts[1] and "has been delivered" in texts[2]
    german = [m.text for m in sara]
    assert "unterwegs mit DHL" in german[0] and "12. April 2027" in german[0]
    assert "15. April 2027" in german[1] and "zugestellt" in german[2]
    assert len(telegram.sent(NORA_CHAT)) == 1 and telegram.delivered == 4  # Nora: the answer to STOP NOTICES only
    assert stats.sent == 7 and stats.failed == 0  # six notices, and the answer to STOP NOTICES (a reply: the outbox)
    notices = await Campaign.get(kind="notices")
    assert notices.status == "running"  # the order notices never finish
    assert await Delivery.filter(campaign=notices, status="sent").count() == 6
    noted = await OrderNotice.filter(delivery_id=None).values_list("order__external_id", "note")
    assert sorted(noted) == [("N-3", "notices_off")] * 3 + [("P-4", "no_chat")] * 3
    assert (await Customer.get(external_id="TOM")).opted_out_at is not None  # marketing consent untouched
    assert (await Customer.get(external_id="NORA")).notices_off_at is not None

"""``chatcast serve``'s service on loopback: health, sending what is due, receiving updates, a clean stop.

The Telegram sandbox validates every request the real aiogram code makes; nothing here sleeps: the test
awaits the service's ready callback and the sandbox's delivered-message marks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from storage.models import Campaign, ChannelIdentity, Delivery
from tests.fakes.dispatch_worker import add_campaign, add_customers, add_deliveries
from tests.fakes.sandboxes import CountingSandbox
from tests.fakes.service import free_port, settings_for, start

WEBHOOK_SECRET = "serve-test-webhook-secret"


async def test_serve_reports_health_sends_what_is_due_answers_chats_and_stops_cleanly(
    database: str, telegram_sandbox: CountingSandbox, tmp_path: Path
) -> None:
    state, stop, task = await start(settings_for(database, telegram_sandbox, tmp_path), port=0)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{state.url}/health") as response:
            health = await response.json()
        assert response.status == 200
        assert health["status"] == "ok" and health["database"] == "ok" and health["worker"] == "serve-test"
        assert health["channels"] == ["telegram"] and health["telegram"] == "polling" and health["slack"] == "off"
        assert health["scheduler"]["running"] and "housekeeping" in health["scheduler"]["jobs"]

        chats = ["9001", "9002", "9003"]
        customers = await add_customers("telegram", chats, first_id=1000)  # clear of the sequence the bot uses
        campaign = await add_campaign()
        await add_deliveries(campaign, "telegram", list(zip(customers, chats, strict=True)))
        await asyncio.wait_for(telegram_sandbox.reached(3), 30)  # the service's dispatcher found and sent them
        assert [len(telegram_sandbox.sent(int(c))) for c in chats] == [1, 1, 1]

        await telegram_sandbox.user_sends(5555, "/start")  # received by long polling, answered by the bot
        await asyncio.wait_for(telegram_sandbox.reached(4), 30)
        assert await ChannelIdentity.filter(channel="telegram", address="5555").exists()
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, 60)
    assert stats.sent == 4 and stats.failed == 0  # the campaign's three, and the welcome (a reply, by the outbox)
    assert await Delivery.filter(status="sent", campaign_id=campaign).count() == 3
    assert (await Campaign.get(id=campaign)).status == "done"  # closed as its last rows went out
    with pytest.raises(aiohttp.ClientConnectionError):  # the HTTP server is gone
        async with aiohttp.ClientSession() as http, http.get(f"{state.url}/health"):
            pass


async def test_the_webhook_takes_updates_with_the_secret_and_refuses_them_without(
    database: str, telegram_sandbox: CountingSandbox, tmp_path: Path
) -> None:
    port = free_port()
    settings = settings_for(database, telegram_sandbox, tmp_path, telegram_webhook_secret=WEBHOOK_SECRET)
    state, stop, task = await start(settings, port=port, public_url=f"http://127.0.0.1:{port}")
    try:
        assert state.receiving["telegram"] == "webhook"
        async with aiohttp.ClientSession() as http:
            forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
            async with http.post(f"{state.url}/telegram/webhook", json=forged) as response:
                assert response.status == 401
        # the sandbox posts it to the registered webhook with the secret
        await telegram_sandbox.user_sends(6666, "/start")
        await asyncio.wait_for(telegram_sandbox.reached(1), 30)
        assert await ChannelIdentity.filter(channel="telegram", address="6666").exists()
        assert not await ChannelIdentity.filter(channel="telegram", address="1").exists()
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


@pytest.mark.parametrize("groups", [False, True])
async def test_groups_are_customers_only_where_the_shop_says_so(
    database: str, telegram_sandbox: CountingSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, groups: bool
) -> None:
    monkeypatch.setenv("CHATCAST_TELEGRAM_GROUP_CHATS", str(groups).lower())  # read by the settings, as serve does
    port = free_port()
    settings = settings_for(database, telegram_sandbox, tmp_path, telegram_webhook_secret=WEBHOOK_SECRET)
    assert settings.telegram_group_chats is groups
    _, stop, task = await start(settings, port=port, public_url=f"http://127.0.0.1:{port}")
    try:
        await telegram_sandbox.user_sends(-4001, "/start", from_id=601)
        await telegram_sandbox.user_sends(7777, "/start")  # a private chat, welcomed either way
        await asyncio.wait_for(telegram_sandbox.reached(2 if groups else 1), 30)
        assert await ChannelIdentity.filter(channel="telegram", address="-4001").exists() is groups
        assert len(telegram_sandbox.sent(-4001)) == int(groups)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_rows_that_fell_due_while_it_was_down_go_out_once_at_start(
    database: str, telegram_sandbox: CountingSandbox, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    chats = ["7001", "7002"]
    customers = await add_customers("telegram", chats, first_id=2000)
    campaign = await add_campaign()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await add_deliveries(campaign, "telegram", list(zip(customers, chats, strict=True)), due_at=an_hour_ago)
    _, stop, task = await start(settings_for(database, telegram_sandbox, tmp_path), port=0)
    try:
        await asyncio.wait_for(telegram_sandbox.reached(2), 30)  # at once, without waiting for any schedule
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    _, stop2, task2 = await start(settings_for(database, telegram_sandbox, tmp_path), port=0)  # and a restart
    stop2.set()
    assert (await asyncio.wait_for(task2, 60)).sent == 0
    assert [len(telegram_sandbox.sent(int(c))) for c in chats] == [1, 1]
    assert await Delivery.filter(status="sent").count() == 2

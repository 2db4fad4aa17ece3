"""``chatcast serve``'s service on loopback: health, sending what is due, receiving updates, a clean stop.

The Telegram sandbox validates every request the real aiogram code makes; nothing here sleeps: the test
awaits the service's ready callback and the sandbox's delivered-message marks.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from campaigns.delivery.dispatcher import DispatchStats
from chatcast.serve import ServiceState, run_service
from chatcast.settings import Settings
from storage.models import Campaign, ChannelIdentity, Delivery
from tests.campaigns.delivery.test_crash import CountingSandbox
from tests.fakes.dispatch_worker import TOKEN, add_campaign, add_customers, add_deliveries

WEBHOOK_SECRET = "serve-test-webhook-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def telegram(database: str) -> AsyncIterator[CountingSandbox]:
    async with CountingSandbox() as sandbox:
        yield sandbox
        assert sandbox.violations == []


def settings_for(database: str, telegram: CountingSandbox, tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url=database,
        telegram_bot_token=TOKEN,
        telegram_api_url=telegram.base_url,
        **extra,
    )


async def start(
    settings: Settings, **options: object
) -> tuple[ServiceState, asyncio.Event, asyncio.Task[DispatchStats]]:
    """The service, running; its state once ready, the stop event and the task."""
    stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
    on_ready: Callable[[ServiceState], None] = ready.set_result
    task = asyncio.create_task(
        run_service(settings, host="127.0.0.1", stop=stop, worker="serve-test", ready=on_ready, **options)  # type: ignore[arg-type]
    )
    done, _ = await asyncio.wait({task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped it
    assert ready in done, "the service did not become ready"
    return ready.result(), stop, task


async def test_serve_reports_health_sends_what_is_due_answers_chats_and_stops_cleanly(
    database: str, telegram: CountingSandbox, tmp_path: Path
) -> None:
    state, stop, task = await start(settings_for(database, telegram, tmp_path), port=0)
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
        await asyncio.wait_for(telegram.reached(3), 30)  # the service's dispatcher found and sent them
        assert [len(telegram.sent(int(c))) for c in chats] == [1, 1, 1]

        await telegram.user_sends(5555, "/start")  # received by long polling, answered by the bot
        await asyncio.wait_for(telegram.reached(4), 30)
        assert await ChannelIdentity.filter(channel="telegram", address="5555").exists()
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, 60)
    assert stats.sent == 3 and stats.failed == 0
    assert await Delivery.filter(status="sent").count() == 3
    assert (await Campaign.get(id=campaign)).status == "done"  # closed as its last rows went out
    with pytest.raises(aiohttp.ClientConnectionError):  # the HTTP server is gone
        async with aiohttp.ClientSession() as http, http.get(f"{state.url}/health"):
            pass


async def test_the_webhook_takes_updates_with_the_secret_and_refuses_them_without(
    database: str, telegram: CountingSandbox, tmp_path: Path
) -> None:
    port = free_port()
    settings = settings_for(database, telegram, tmp_path, telegram_webhook_secret=WEBHOOK_SECRET)
    state, stop, task = await start(settings, port=port, public_url=f"http://127.0.0.1:{port}")
    try:
        assert state.receiving["telegram"] == "webhook"
        async with aiohttp.ClientSession() as http:
            forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
            async with http.post(f"{state.url}/telegram/webhook", json=forged) as response:
                assert response.status == 401
        await telegram.user_sends(6666, "/start")  # the sandbox posts it to the registered webhook with the secret
        await asyncio.wait_for(telegram.reached(1), 30)
        assert await ChannelIdentity.filter(channel="telegram", address="6666").exists()
        assert not await ChannelIdentity.filter(channel="telegram", address="1").exists()
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_rows_that_fell_due_while_it_was_down_go_out_once_at_start(
    database: str, telegram: CountingSandbox, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    chats = ["7001", "7002"]
    customers = await add_customers("telegram", chats, first_id=2000)
    campaign = await add_campaign()
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await add_deliveries(campaign, "telegram", list(zip(customers, chats, strict=True)), due_at=an_hour_ago)
    _, stop, task = await start(settings_for(database, telegram, tmp_path), port=0)
    try:
        await asyncio.wait_for(telegram.reached(2), 30)  # at once, without waiting for any schedule
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    _, stop2, task2 = await start(settings_for(database, telegram, tmp_path), port=0)  # and a restart
    stop2.set()
    assert (await asyncio.wait_for(task2, 60)).sent == 0
    assert [len(telegram.sent(int(c))) for c in chats] == [1, 1]
    assert await Delivery.filter(status="sent").count() == 2

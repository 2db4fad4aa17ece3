"""The staff's conversation page: behind basic auth, absent without a password, escaped, one customer at a time."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from campaigns.delivery.metrics import Metrics
from chatcast.dashboard import add_dashboard
from storage.models import Campaign, ChatMessage, Conversation, Customer, Delivery
from tests.fakes.dashboard import login, serve
from tests.fakes.report_scenario import load_scenario


@pytest.fixture
async def chat(database: str) -> AsyncIterator[int]:
    mia = await Customer.create(external_id="C-MIA", name="Mia Berg")
    other = await Customer.create(external_id="C-BOB", name="Bob Stone")
    at = datetime(2027, 3, 1, 9, tzinfo=UTC)
    await ChatMessage.create(customer=mia, channel="telegram", role="customer", text="<script>x()</script> late!",
                             sentiment=-0.7, at=at)  # fmt: skip
    await ChatMessage.create(customer=mia, channel="telegram", role="assistant", text="Sorry, a person will help.",
                             at=at)  # fmt: skip
    await ChatMessage.create(customer=other, channel="telegram", role="customer", text="Bob's own words", at=at)
    await Conversation.create(customer=mia, channel="telegram", address="7001", holder="human",
                              handoff_reason="negative")  # fmt: skip
    yield mia.id


async def test_the_page_needs_the_login_and_shows_one_customer_escaped(chat: int) -> None:
    runner, base = await serve("s3cret-pw")
    url = f"{base}/dashboard/conversations/{chat}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as anonymous:
                assert anonymous.status == 401 and "Mia" not in await anonymous.text()
                assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
            async with http.get(url, headers=login("staff", "wrong")) as wrong:
                assert wrong.status == 401
            async with http.get(url, headers=login("staff", "s3cret-pw")) as page:
                html = await page.text()
                assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
            async with http.get(f"{base}/dashboard/conversations/999999", headers=login("staff", "s3cret-pw")) as gone:
                assert gone.status == 404
    finally:
        await runner.cleanup()
    assert "Mia Berg" in html and "Sorry, a person will help." in html and "a person" in html and "negative" in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html and "<script>x()" not in html
    assert "-0.70" in html and "Bob" not in html


async def test_without_a_password_there_is_no_dashboard(chat: int) -> None:
    runner, base = await serve(None)
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{base}/dashboard/conversations/{chat}") as response:
            assert response.status == 404
    finally:
        await runner.cleanup()


async def test_the_dashboard_lists_campaigns_personas_and_waiting_chats(chat: int) -> None:
    await load_scenario()
    await Customer.filter(external_id="c1").update(persona="runner")
    runner, base = await serve("pw")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/dashboard") as anonymous:
                assert anonymous.status == 401 and "June" not in await anonymous.text()
            async with http.get(f"{base}/dashboard", headers=login("staff", "pw")) as page:
                home = await page.text()
            async with http.get(f"{base}/dashboard/campaigns/june", headers=login("staff", "pw")) as page:
                detail = await page.text()
            async with http.get(f"{base}/dashboard/static/chart.umd.min.js", headers=login("staff", "pw")) as js:
                assert js.status == 200 and "Chart.js v4" in (await js.text())[:200]
    finally:
        await runner.cleanup()
    # per customer reached (18: a follow-up's customer counts once): 3 clicked, 3 bought, 1 opted out within 7 days
    june = r'data-key="june".*?<td>running</td>.*?<td>18</td><td>16.7%</td><td>16.7%</td><td>5.6%</td>'
    june += r"\s*<td>EUR 180.00</td>"
    assert re.search(june, home, re.S)
    assert re.search(r"<td>runner</td><td>1</td>", home)
    assert "Mia Berg" in home and "negative" in home  # the conversation a person holds
    assert re.search(r'data-stage="sent"><td>reached \(sent\)</td><td>18</td><td></td><td>22</td>', detail)
    assert re.search(r'data-stage="converted"><td>converted \(bought\)</td><td>3</td><td>16.7%</td><td>3</td>', detail)
    assert 'id="chart-funnel"' in detail and '"values": [32, 22, 3, 2, 3]' in detail


async def test_metrics_count_sends_by_channel_and_outcome_behind_the_login(database: str) -> None:
    from campaigns.delivery.dispatcher import Dispatcher
    from campaigns.ports import ChannelLimits, OutboundMessage, SendReceipt

    class Quick:
        name = "telegram"
        limits = ChannelLimits(4096, None, None, 0, 0)

        async def send(self, message: OutboundMessage) -> SendReceipt:
            return SendReceipt(("1",), datetime.now(UTC), message.address)

    campaign = await Campaign.create(key="m", name="M", yaml="", yaml_hash="h", status="running")
    for n in range(3):
        customer = await Customer.create(external_id=f"m{n}", opted_in_at=datetime.now(UTC))
        await Delivery.create(campaign=campaign, customer=customer, step="main", channel="telegram", address=str(n),
                              status="queued", due_at=datetime.now(UTC), text="hi")  # fmt: skip
    metrics = Metrics()
    metrics.count_tokens("assistant", lambda: 1_000_000)
    await Dispatcher({"telegram": Quick()}, worker="m", rates={}, metrics=metrics).drain()
    app = web.Application()
    add_dashboard(app, "staff", "pw", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/metrics") as anonymous:
                assert anonymous.status == 401
            async with http.get(f"{base}/metrics", headers=login("staff", "pw")) as response:
                text = await response.text()
    finally:
        await runner.cleanup()
    assert 'chatcast_sends_total{channel="telegram",outcome="sent"} 3.0' in text
    assert 'chatcast_send_seconds_count{channel="telegram"} 3.0' in text
    assert 'chatcast_llm_tokens_total{purpose="assistant"} 1e+06' in text
    assert 'chatcast_llm_cost_usd_total{purpose="assistant"} 0.6' in text
    assert "chatcast_queue_depth" in text

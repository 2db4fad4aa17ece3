"""The staff's conversation page: behind basic auth, absent without a password, escaped, one customer at a time."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from chatcast.dashboard import add_dashboard
from storage.models import ChatMessage, Conversation, Customer


def login(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def serve(password: str | None) -> tuple[web.AppRunner, str]:
    app = web.Application()
    add_dashboard(app, "staff", password)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


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

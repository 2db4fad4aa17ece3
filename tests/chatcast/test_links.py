"""Tracked links through ``chatcast serve`` on loopback: the dispatcher sends a campaign message whose links are
redirects of serve's, opening one records a click and goes on to the shop, a preview or a ``HEAD`` records nothing,
and a token that is not ours gets a plain 404; with tracking off, the links go out as they are."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from campaigns.delivery.links import LinkTokens
from chatcast.links import NOT_FOUND
from storage.models import Delivery, Event
from tests.fakes.dispatch_worker import add_campaign, add_customers, add_deliveries
from tests.fakes.sandboxes import CountingSandbox
from tests.fakes.service import free_port, settings_for, start

SECRET = "serve-link-secret"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
TEXT = "Spring sale: 20% off. See https://shop.example/p/RUN-1?code=SPRING20, then reply."
PREVIEWERS = (
    "TelegramBot (like TwitterBot)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
)


async def _get(http: aiohttp.ClientSession, url: str, agent: str = BROWSER, method: str = "GET") -> tuple[int, str]:
    async with http.request(method, url, headers={"User-Agent": agent}, allow_redirects=False) as response:
        return response.status, response.headers.get("Location", "") or await response.text()


async def _sent(sandbox: CountingSandbox, chat: str) -> tuple[str, list[str], dict[str, Any]]:
    """The text, the link buttons' addresses and the request of the one message in ``chat``."""
    [message] = sandbox.sent(int(chat))
    urls = [b["url"] for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row if "url" in b]
    return message.text or "", urls, message.raw


async def test_a_tracked_link_records_each_click_and_redirects_to_the_shop(
    database: str, telegram_sandbox: CountingSandbox, tmp_path: Path
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = settings_for(database, telegram_sandbox, tmp_path, public_url=public + "/", link_secret=SECRET)
    _, stop, task = await start(settings, port=port)
    try:
        [ann, bob] = await add_customers("telegram", ["9101", "9102"], first_id=1000)
        campaign = await add_campaign()
        [mine, theirs] = await add_deliveries(campaign, "telegram", [(ann, "9101"), (bob, "9102")], text=TEXT)
        await asyncio.wait_for(telegram_sandbox.reached(2), 30)
        text, [button], request = await _sent(telegram_sandbox, "9101")
        assert request["link_preview_options"] == {"is_disabled": True}  # no preview fetch: no false click
        [in_text] = [word.rstrip(",") for word in text.split() if word.startswith(public)]
        assert text == TEXT.replace("https://shop.example/p/RUN-1?code=SPRING20", in_text)
        assert button.startswith(f"{public}/l/") and in_text.startswith(f"{public}/l/") and button != in_text
        assert len(button) - len(public) <= 24 and "9101" not in button and "Customer" not in button
        row = await Delivery.get(id=mine)
        assert row.text == TEXT and row.buttons[0]["url"] == "https://shop.example/spring"  # kept as written
        assert row.links_tracked is True

        async with aiohttp.ClientSession() as http:
            assert await _get(http, in_text) == (302, "https://shop.example/p/RUN-1?code=SPRING20")
            assert await _get(http, button) == (302, "https://shop.example/spring")
            assert await _get(http, button) == (302, "https://shop.example/spring")  # every click is an event
            for agent in PREVIEWERS:
                assert await _get(http, button, agent) == (302, "https://shop.example/spring")
            assert (await _get(http, button, method="HEAD"))[0] == 302
            clicks = await Event.filter(type="clicked").order_by("id")
            assert [(e.customer_id, e.campaign_id, e.delivery_id) for e in clicks] == [(ann, campaign, mine)] * 3
            assert [e.data["url"] for e in clicks] == ["https://shop.example/p/RUN-1?code=SPRING20"] + [
                "https://shop.example/spring"
            ] * 2
            assert clicks[0].data == {"url": "https://shop.example/p/RUN-1?code=SPRING20", "via": "link", "link": 1,
                                      "step": "s1", "channel": "telegram"}  # fmt: skip

            # what is not a link of ours: a plain 404 page, never a 500, and nothing recorded
            token, tokens = button.rsplit("/", 1)[1], LinkTokens(SECRET)
            _, [other], _ = await _sent(telegram_sandbox, "9102")
            forged = LinkTokens("not-the-shops-secret").token(mine, 0)
            no_such = (tokens.token(theirs + 1000, 0), tokens.token(mine, 2))  # no such delivery; no third link
            for bad in (token[:-2], token[:-1] + ("A" if token[-1] != "A" else "B"), "AAAAAAAAAAAAAAAA", forged,
                        *no_such, "x" * 300, "é"):  # fmt: skip
                assert await _get(http, f"{public}/l/{bad}") == (404, NOT_FOUND), bad
            for odd in (f"{token}/more", "", "%2e%2e"):
                assert (await _get(http, f"{public}/l/{odd}"))[0] == 404, odd
            # a query added to the link changes nothing: the token alone says where it goes
            assert await _get(http, f"{button}?u=https://evil.example") == (302, "https://shop.example/spring")
            assert (await _get(http, other))[0] == 302  # the other delivery's link is theirs
        assert [e.customer_id for e in await Event.filter(type="clicked").order_by("id")] == [ann] * 4 + [bob]
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_with_tracking_off_links_go_out_as_they_are(
    database: str, telegram_sandbox: CountingSandbox, tmp_path: Path
) -> None:
    public = f"http://127.0.0.1:{free_port()}"
    settings = settings_for(database, telegram_sandbox, tmp_path, public_url=public, track_links=False)
    _, stop, task = await start(settings, port=0)
    try:
        [ann] = await add_customers("telegram", ["9201"], first_id=1000)
        [row] = await add_deliveries(await add_campaign(), "telegram", [(ann, "9201")], text=TEXT)
        await asyncio.wait_for(telegram_sandbox.reached(1), 30)
        text, [button], _ = await _sent(telegram_sandbox, "9201")
        assert (text, button) == (TEXT, "https://shop.example/spring")
        assert (await Delivery.get(id=row)).links_tracked is False  # the report says: link clicks not measured
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)

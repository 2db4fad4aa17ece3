"""Tracked links, lived through the CLI and HTTP from an empty database: the shop sets ``CHATCAST_PUBLIC_URL``, a
campaign goes out with its link button and the link in its text as redirects of ``serve``, customers open them in
their browsers (one twice), the chat platform fetches one for its preview, another customer presses "Not now";
the report counts the clicked messages, the customers' records show each click with its link, and the
``not_clicked`` reminder reaches exactly those who did not open a link, "Not now" or not."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.journeys.chats import Chats
from tests.fakes.journeys.customers import reported
from tests.fakes.service import free_port, serving

pytestmark = pytest.mark.slow

MONDAY = datetime(2027, 4, 5, 9, 0, tzinfo=UTC)
SALE, SHOE = "https://shop.example.com/sale?src=chat", "https://shop.example.com/p/RUN-1"
CAMPAIGN = f"""\
id: link-sale
name: Link sale
channels: [telegram]
message:
  brief: The sale is on.
  template: "Hi {{{{ customer.first_name }}}}, the sale is on: {SALE}. {{{{ unsubscribe }}}}"
  buttons:
    - {{text: Shop now, url: "{SHOE}"}}
    - {{text: Not now, action: snooze}}
follow_ups:
  - id: reminder
    after: 1d
    when: [not_clicked]
    message:
      brief: A reminder.
      template: "Still on, {{{{ customer.first_name }}}}: {SALE}. {{{{ unsubscribe }}}}"
"""
PEOPLE = {"K1": ("Ann Ito", "7001"), "K2": ("Ben Roth", "7002"), "K3": ("Cat Hale", "7003"), "K4": ("Dan Abe", "7004")}
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari"
PREVIEW = "TelegramBot (like TwitterBot)"


class _Stay(urllib.request.HTTPRedirectHandler):
    """A browser that shows where a redirect leads instead of going there (the shop is not on loopback)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def open_link(url: str, agent: str = BROWSER, method: str = "GET") -> tuple[int, str]:
    """Open ``url`` as a browser (or a preview fetcher) would: the status and where it redirects."""
    request = urllib.request.Request(url, headers={"User-Agent": agent}, method=method)
    try:
        with urllib.request.build_opener(_Stay).open(request, timeout=30) as answer:
            return answer.status, answer.headers.get("Location", "")
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers.get("Location", "")


def write_shop(folder: Path) -> None:
    (folder / "segments.yaml").write_text("personas:\n  - {id: everyone, description: All., tone: Warm.}\n")
    (folder / "products.csv").write_text("sku,name,category,price,currency\nRUN-1,Runner,running-shoes,90,EUR\n")
    rows = "".join(f"{key},{name},en,Europe/Berlin,2027-01-01T00:00:00+00:00,{chat},\n" for key, (name, chat) in
                   PEOPLE.items())  # fmt: skip
    header = "external_id,name,language,timezone,opted_in_at,telegram_chat_id,slack_user\n"
    (folder / "customers.csv").write_text(header + rows)
    (folder / "sale.yaml").write_text(CAMPAIGN)


def links_of(chats: Chats, key: str) -> tuple[str, str, str]:
    """The customer's first message: its text, the link in it and its link button's address."""
    message = chats.telegram.sent(int(PEOPLE[key][1]))[0]
    [button] = [b["url"] for row in message.reply_markup["inline_keyboard"] for b in row if "url" in b]
    text = message.text or ""
    [in_text] = [word.rstrip(".") for word in text.split() if "/l/" in word]
    return text, in_text, button


def events_of(cli: Cli, shop: Path, key: str) -> list[dict[str, Any]]:
    """The customer's events, as ``chatcast customer export`` shows them."""
    cli.ok("customer", "export", key, "--out", str(shop / f"{key}.json"))
    return list(json.loads((shop / f"{key}.json").read_text())["events"])


def test_tracked_links_count_real_clicks_and_a_not_clicked_reminder_follows_them(
    shop: Path, cli: Cli, chats: Chats, clock: WallClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("CHATCAST_PUBLIC_URL", public)
    clock.to(MONDAY)
    write_shop(shop)
    for kind in ("products", "customers"):
        cli.ok("import", kind, f"{kind}.csv")
    cli.ok("segments", "refresh", "--file", "segments.yaml")
    launched = cli.ok("campaign", "launch", "sale.yaml", "--segments", "segments.yaml")
    assert "link-sale: 4 planned" in launched and "sent 4, failed 0" in launched

    sent = {key: links_of(chats, key) for key in PEOPLE}
    for key, (text, in_text, button) in sent.items():
        assert SALE not in text and SHOE not in text and text.startswith(f"Hi {PEOPLE[key][0].split()[0]}, ")
        assert in_text.startswith(f"{public}/l/") and button.startswith(f"{public}/l/") and in_text != button
        assert key not in in_text + button and PEOPLE[key][1] not in in_text + button  # no one's id in a link
    assert len({link for _, in_text, button in sent.values() for link in (in_text, button)}) == 8  # per message

    with serving(port=port):
        assert open_link(sent["K1"][1]) == (302, SALE)  # Ann opens the sale from the text
        assert open_link(sent["K4"][2]) == (302, SHOE)  # Dan opens the shoe, twice
        assert open_link(sent["K4"][2]) == (302, SHOE)
        assert open_link(sent["K2"][1], PREVIEW) == (302, SALE)  # Telegram fetches Ben's link for a preview
        assert open_link(sent["K2"][2], method="HEAD") == (302, SHOE)
        assert open_link(f"{public}/l/{sent['K2'][2].rsplit('/', 1)[1][:-3]}") == (404, "")  # cut short
        message = chats.telegram.sent(int(PEOPLE["K2"][1]))[0]  # Ben presses "Not now"
        [snooze] = [b for row in message.reply_markup["inline_keyboard"] for b in row if b["text"] == "Not now"]
        chats.run(chats.telegram.user_presses(int(PEOPLE["K2"][1]), message.message_id, snooze["callback_data"]))
        chats.wait(lambda: len(chats.telegram.answered_callbacks) == 1)
        figures = reported(cli, "link-sale", lambda r: r["funnel"]["clicked"] == 2)
    assert figures["funnel"]["sent"] == 4  # clicked: Ann's and Dan's messages (Dan's two clicks are one message)

    ann, dan, ben = (events_of(cli, shop, key) for key in ("K1", "K4", "K2"))
    assert [e["data"] for e in ann if e["type"] == "clicked"] == [
        {"url": SALE, "via": "link", "link": 1, "step": "main", "channel": "telegram"}
    ]
    assert [e["data"]["url"] for e in dan if e["type"] == "clicked"] == [SHOE, SHOE]  # every click is an event
    assert [e["type"] for e in ben if e["type"] in ("clicked", "snoozed")] == ["snoozed"]

    clock.to(MONDAY + timedelta(days=1, minutes=5))  # the reminder's window has closed
    output = cli.ok("serve", "--once")
    assert "follow-ups planned: link-sale 2" in output and "sent 2, failed 0" in output
    reminded = {key for key, (_, chat) in PEOPLE.items() if len(chats.telegram.sent(int(chat))) == 2}
    assert reminded == {"K2", "K3"}  # Ben pressed "Not now" and Cat did nothing: neither opened a link
    reminder = chats.telegram.sent(int(PEOPLE["K3"][1]))[1].text or ""
    assert reminder.startswith("Still on, Cat: ") and f"{public}/l/" in reminder and SALE not in reminder

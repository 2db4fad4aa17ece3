"""A Slack campaign through the CLI, on SQLite and PostgreSQL: a product named like mrkdwn (``*Pro* _x_ ~y~ `z```)
reaches the customer through the real slack-sdk client and the Slack sandbox showing no formatting, while the
template's own ``*bold*`` stays bold; the test-send to the marketer's Slack shows the same, and a Telegram customer
of the same campaign reads the name as it is (HTML mode escapes everything already)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.slack.sandbox.formatting import Span
from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.sandbox.server import TelegramSandbox
from storage import db
from storage.sql import script
from tests.fakes.cli import invoke
from tests.fakes.databases import TABLES
from tests.fakes.sandboxes import SIGNING, served_in_thread

TEAM, CLEO, ME = "T0SHOP", "U0CLEO", "U0MARKETER"
NAME = "*Pro* _x_ ~y~ `z`"
CAMPAIGN = """\
id: pro-week
name: Pro week
channels: [slack, telegram]
audience:
  personas: [everyone]
offer: {code: PRO_WEEK, discount: 20%, expires: 2099-06-30}
products:
  skus: [PRO-1]
message:
  brief: The Pro is twenty percent off this week.
  template: |
    *{{ offer.discount }} off* the {{ product.name }} with {{ offer.code }}.
    {{ unsubscribe }}
  buttons:
    - {text: Shop, url: "{{ product.url }}"}
"""


async def empty(url: str) -> None:
    if url.startswith("postgres"):
        async with db.database(url):
            await script("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE")


@pytest.fixture
def shop(backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    asyncio.run(empty(backend))
    (isolated / "segments.yaml").write_text("personas:\n  - {id: everyone, description: Everyone, tone: friendly}\n")
    (isolated / "pro.yaml").write_text(CAMPAIGN)
    (isolated / "products.csv").write_text(
        f'sku,name,category,price,currency,url,stock\nPRO-1,"{NAME}",gadgets,99,EUR,https://shop.example/p/pro_1,5\n'
    )
    (isolated / "customers.csv").write_text(
        "external_id,name,language,opted_in_at,telegram_chat_id,slack_user\n"
        f"C1,Cleo Park,en,2026-01-01T00:00:00+00:00,,{TEAM}/{CLEO}\n"
        "C2,Ann Lee,en,2026-01-01T00:00:00+00:00,9001,\n"
    )
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", str(isolated / "segments.yaml"))
    return isolated / "pro.yaml"


@pytest.fixture
def chats(
    monkeypatch: pytest.MonkeyPatch, slack_spec: Path, telegram_spec: Path
) -> Iterator[tuple[SlackSandbox, TelegramSandbox]]:
    slack, telegram = SlackSandbox(spec=slack_spec, signing_secret=SIGNING), TelegramSandbox(spec=telegram_spec)
    with served_in_thread(slack, telegram):
        token = slack.add_team(TEAM, name="Shop")
        for user in (CLEO, ME):
            slack.add_user(TEAM, user)
        for name, value in {
            "SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": SIGNING, "SLACK_API_URL": slack.base_url,
            "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_URL": telegram.base_url,
        }.items():  # fmt: skip
            monkeypatch.setenv(f"CHATCAST_{name}", value)
        yield slack, telegram
        assert slack.violations == [] and telegram.violations == []


def test_a_product_named_like_markup_shows_as_it_is_and_the_templates_bold_stays(
    shop: Path, chats: tuple[SlackSandbox, TelegramSandbox]
) -> None:
    slack, telegram = chats
    for kind in ("products", "customers"):
        invoke.ok("import", kind, f"{kind}.csv")
    invoke.ok("segments", "refresh")
    invoke.ok("campaign", "test-send", str(shop), "--to", f"slack:{TEAM}/{ME}", "--customer", "C2")
    [test] = slack.dm(TEAM, ME)
    assert test.formatting() == [Span("bold", "20% off")]  # the Telegram customer's words, written for Slack

    output = invoke.ok("campaign", "launch", str(shop))
    assert "sent 2, failed 0" in output
    [sent] = slack.dm(TEAM, CLEO)
    assert sent.formatting() == [Span("bold", "20% off")]
    shown = sent.blocks[0]["text"]["text"]
    assert shown.startswith("*20% off* the \u2217Pro\u2217 \u02cdx\u02cd \u223cy\u223c \u02cbz\u02cb with PRO_WEEK.")
    assert test.blocks[0]["text"]["text"].split("\n")[1] == shown.split("\n")[0]  # the test showed what she got
    assert sent.buttons()[0]["url"] == "https://shop.example/p/pro_1"  # a link is an address, never quoted
    [ann] = telegram.sent(9001)
    assert ann.text and ann.text.startswith(f"*20% off* the {NAME} with PRO_WEEK.")

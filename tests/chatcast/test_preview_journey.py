"""A marketer's way from an empty database to a launch, on SQLite and PostgreSQL, through the CLI only: import the
shop, refresh the personas, preview (only the planned audience, on each one's channel, every step, where the
recommendations came up short), test-send to their own Telegram chat through the real aiogram code and the Bot API
sandbox (marked, never to the customer, nothing stored), then launch: the customer gets what the test showed."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.telegram.sandbox.server import TelegramSandbox
from storage import db
from storage.models import Delivery, Event
from storage.sql import script
from tests.fakes.cli import invoke
from tests.fakes.databases import TABLES

MARKETER = 424242
CHATS = {"C1": 9001, "C2": 9002, "C4": 9004, "C5": 9005, "C6": 9006}
SEGMENTS = """\
personas:
  - {id: vip, description: Best customers, tone: warm, when: {tags: {contains: vip}}}
  - {id: everyone, description: Everyone else, tone: friendly}
"""
CAMPAIGN = """\
id: june-shoes
name: June shoes
channels: [telegram, slack]
audience:
  personas: [everyone]
offer: {code: JUNE15, discount: 15%, expires: 2099-06-30}
products:
  recommend: {rule: bestsellers, category: running-shoes, count: 3}
message:
  brief: Fifteen percent off running shoes in June.
  template: |
    Hi {{ customer.first_name }}: {{ offer.discount }} off with {{ offer.code }}.
    {% for p in products %}- {{ p.name }}: {{ p.price }} {{ p.currency }}
    {% endfor %}{{ unsubscribe }}
  buttons:
    - {text: Shop, url: "https://shop.example/p/{{ product.sku }}?code={{ offer.code }}"}
    - {text: Not now, action: snooze}
variants:
  - {id: a}
  - {id: b, brief: Lead with the shoe.}
follow_ups:
  - id: reminder
    after: 2d
    when: [not_clicked]
    message:
      brief: A last call.
      template: "Still thinking, {{ customer.first_name }}? {{ offer.code }} ends soon. {{ unsubscribe }}"
"""


def write_shop(folder: Path) -> None:
    """The shop's files: C1 bought a running shoe; C6 socks; C2 never opted in, C5 opted out, C4 is a VIP, C3 is
    on Slack only. One of the three running shoes is out of stock; socks sell best."""
    recent = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    given, withdrawn = "2026-01-01T00:00:00+00:00", "2026-01-05T00:00:00+00:00"
    (folder / "segments.yaml").write_text(SEGMENTS)
    (folder / "june.yaml").write_text(CAMPAIGN)
    (folder / "products.csv").write_text(
        "sku,name,category,price,currency,url,stock\n"
        "RUN-1,Runner One,running-shoes,80,EUR,https://shop.example/p/run-1,5\n"
        "RUN-2,Runner Two,running-shoes,90,EUR,https://shop.example/p/run-2,5\n"
        "RUN-3,Runner Three,running-shoes,100,EUR,https://shop.example/p/run-3,0\n"
        "SOC-1,Sock,socks,5,EUR,https://shop.example/p/soc-1,50\n"
    )
    (folder / "customers.csv").write_text(
        "external_id,name,language,tags,opted_in_at,opted_out_at,telegram_chat_id,slack_user\n"
        f"C1,Ann Lee,en,,{given},,9001,\n"
        "C2,Ben Ode,en,,,,9002,\n"
        f"C3,Cleo Park,en,,{given},,,T0SHOP/U0CLEO\n"
        f"C4,Vic Tor,en,vip,{given},,9004,\n"
        f"C5,Dora Kim,de,,{given},{withdrawn},9005,\n"
        f"C6,Eve Ray,en,,{given},,9006,\n"
    )
    (folder / "orders.csv").write_text(
        "order_id,line,customer_id,ordered_at,status,currency,discount_code,sku,quantity,unit_price\n"
        f"O1,1,C1,{recent},delivered,EUR,,RUN-1,1,80\n"
        f"O2,1,C6,{recent},delivered,EUR,,SOC-1,9,5\n"
    )


async def empty(url: str) -> None:
    """The session's PostgreSQL database emptied (a SQLite file is new for each test)."""
    if url.startswith("postgres"):
        async with db.database(url):
            await script("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE")


async def stored(url: str) -> tuple[int, int]:
    async with db.database(url):
        return await Delivery.all().count(), await Event.all().count()


def buttons(markup: dict | None) -> list[tuple[str, str]]:
    """Each button's label and where it leads: its URL, or its callback's step and action (not the campaign id)."""
    rows = (markup or {}).get("inline_keyboard", [])
    out = []
    for [button] in rows:
        data = button.get("callback_data")
        out.append((button["text"], button.get("url") or ":".join(data.split(":")[2:])))
    return out


@pytest.fixture
def shop(backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    asyncio.run(empty(backend))
    write_shop(isolated)
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", str(isolated / "segments.yaml"))
    return isolated / "june.yaml"


def test_preview_and_test_send_show_what_the_launch_then_sends(
    shop: Path, backend: str, telegram: TelegramSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for kind in ("products", "customers", "orders"):
        code, output = invoke("import", kind, f"{kind}.csv")
        assert code == 0, output
    assert invoke("segments", "refresh")[0] == 0

    code, output = invoke("campaign", "preview", str(shop), "--limit", "5")
    assert code == 0, output
    titles = re.findall(r"(main|reminder) · everyone · variant ([ab]) · (telegram|slack) · (C\d) · template", output)
    shown = {(step, customer): channel for step, _, channel, customer in titles}
    assert shown == {
        (step, c): "slack" if c == "C3" else "telegram" for step in ("main", "reminder") for c in ["C1", "C3", "C6"]
    }
    assert "step reminder: 2d after main, when not_clicked" in output and "Still thinking, Ann? JUNE15" in output
    assert "Runner Two: 90.0 EUR" in output and "Sock" not in output  # shoes only, though socks sell best
    assert "1 of 3 products: the category running-shoes has no more in stock that the customer has not bought" in output
    code, output = invoke("campaign", "preview", str(shop), "--customer", "C2")
    assert code == 1 and "C2 is not in the planned audience of june-shoes: they have not opted in" in output

    code, output = invoke("campaign", "test-send", str(shop), "--customer", "C1", "--to", f"telegram:{MARKETER}")
    assert code == 0, output
    variant = re.search(r"sent a test of june-shoes \(step main, variant ([ab])\) as C1 gets it on telegram", output)
    assert variant, output
    code, output = invoke(
        "campaign", "test-send", str(shop), "--customer", "C1", "--step", "reminder", "--to", f"telegram:{MARKETER}"
    )
    assert code == 0, output
    code, output = invoke("campaign", "test-send", str(shop), "--customer", "C1", "--to", "telegram:9001")
    assert code == 1 and "is C1's own chat: a test goes to your chat, never to the customer's" in output
    monkeypatch.setenv("CHATCAST_TEST_RECIPIENT", f"telegram:{MARKETER}")
    code, output = invoke("campaign", "test-send", str(shop))
    assert code == 0 and "picked C1 (Ann Lee, persona everyone) from the audience" in output, output
    tests = telegram.sent(MARKETER)
    assert [m.text.splitlines()[0] for m in tests if m.text] == [
        f"[TEST june-shoes · {step} · variant {variant[1]} · as C1]" for step in ("main", "reminder", "main")
    ]
    assert tests[1].text and tests[1].text.endswith("Still thinking, Ann? JUNE15 ends soon. Reply STOP to unsubscribe.")
    assert all(telegram.sent(chat) == [] for chat in CHATS.values())  # no customer got anything
    assert asyncio.run(stored(backend)) == (0, 0)  # no delivery, no event: nothing a report could count

    code, output = invoke("campaign", "launch", str(shop))
    assert code == 0, output
    [ann] = telegram.sent(CHATS["C1"])
    assert tests[0].text == f"[TEST june-shoes · main · variant {variant[1]} · as C1]\n{ann.text}"
    assert (
        buttons(tests[0].reply_markup)
        == buttons(ann.reply_markup)
        == [
            ("Shop", "https://shop.example/p/RUN-2?code=JUNE15"),
            ("Not now", "main:snooze"),
        ]
    )
    assert tests[0].reply_markup["inline_keyboard"][1][0]["callback_data"].split(":")[1] == "0"  # no campaign
    assert len(telegram.sent(CHATS["C6"])) == 1 and not any(telegram.sent(CHATS[c]) for c in ("C2", "C4", "C5"))

"""``chatcast campaign preview | test-send | launch | pause | resume | cancel | status`` from the command line.

The shop is a small SQLite database made here; the Telegram sandbox runs on loopback in a thread of its own,
validating every request the real aiogram code sends against the official Bot API spec.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bots.telegram.sandbox.server import TelegramSandbox
from storage import db
from storage.models import Campaign, ChannelIdentity, Customer, Delivery, Product
from tests.fakes.cli import invoke
from tests.fakes.databases import truncate

SEGMENTS = Path(__file__).resolve().parents[2] / "examples" / "shop" / "segments.yaml"
CAMPAIGN = """\
id: june-shoes
name: June shoes
channels: [telegram]
audience:
  personas: [everyone, bargain_hunter]
  holdout: 0.1
offer: {code: JUNE15, discount: 15%, expires: 2099-06-30}
products:
  recommend: {rule: bestsellers, category: running-shoes, count: 2}
message:
  brief: Fifteen percent off running shoes in June.
  template: |
    Hi {{ customer.first_name }}: {{ offer.discount }} off with {{ offer.code }}.
    {% for p in products %}- {{ p.name }}: {{ p.price }} {{ p.currency }}
    {% endfor %}{{ unsubscribe }}
  buttons:
    - {text: Shop, url: "https://shop.example/p/{{ product.sku }}"}
variants:
  - {id: a, weight: 1}
  - {id: b, weight: 1}
"""
CUSTOMERS = 30


async def _shop(url: str) -> None:
    now = datetime.now(UTC)
    async with db.database(url):
        for n in range(3):
            await Product.create(
                sku=f"RUN-{n}", name=f"Runner {n}", category="running-shoes", price=80 + n, currency="EUR", stock=5
            )
        for n in range(CUSTOMERS):
            customer = await Customer.create(
                external_id=f"C{n:03d}",
                name=f"Person{n} Test",
                persona="everyone" if n % 2 else "bargain_hunter",
                opted_in_at=now - timedelta(days=3),
            )
            await ChannelIdentity.create(customer=customer, channel="telegram", address=str(7000 + n))


async def _rows(url: str) -> dict[str, int]:
    async with db.database(url):
        statuses = await Delivery.all().values_list("status", flat=True)
    return {s: statuses.count(s) for s in set(statuses)}


@pytest.fixture
def shop(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small shop in the default database; the campaign file's path."""
    (isolated / "data").mkdir()
    asyncio.run(_shop(f"sqlite://{isolated / 'data' / 'chatcast.sqlite3'}"))
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", str(SEGMENTS))
    path = isolated / "june-shoes.yaml"
    path.write_text(CAMPAIGN)
    return path


def test_preview_shows_each_persona_and_variant_with_verdicts_and_sends_nothing(shop: Path) -> None:
    code, output = invoke("campaign", "preview", str(shop), "--limit", "2")
    assert code == 0, output
    titles = re.findall(r"main · (everyone|bargain_hunter) · variant ([ab]) · telegram · (C\d{3}) · template", output)
    pairs = [(p, v) for p, v, _ in titles]
    assert sorted(pairs) == sorted((p, v) for p in ("everyone", "bargain_hunter") for v in "ab" for _ in range(2))
    assert len({c for _, _, c in titles}) == 8  # two customers who get each persona's variant: each once
    assert "15% off with JUNE15" in output and "Runner 0: 80" in output and "[Shop]" in output
    assert "✓ length" in output and "✗" not in output
    code, output = invoke("campaign", "preview", str(shop), "--customer", "C003")
    assert code == 0 and "Hi Person3:" in output
    assert set(re.findall(r"· (C\d{3}) ·", output)) == {"C003"}
    assert _rows_now(shop) == {}


def _rows_now(shop: Path) -> dict[str, int]:
    return asyncio.run(_rows(f"sqlite://{shop.parent / 'data' / 'chatcast.sqlite3'}"))


def test_dry_run_then_pause_resume_cancel_and_status(shop: Path) -> None:
    code, output = invoke("campaign", "launch", str(shop), "--dry-run")
    assert code == 0, output
    planned = int(re.search(r"june-shoes: (\d+) planned", output).group(1))  # type: ignore[union-attr]
    held = int(re.search(r"(\d+) held out", output).group(1))  # type: ignore[union-attr]
    assert planned + held == CUSTOMERS and "dry run: nothing sent" in output
    assert _rows_now(shop) == {"queued": planned, "holdout": held}
    code, output = invoke("campaign", "status", "june-shoes")
    assert code == 0 and "june-shoes: planned" in output and re.search(rf"main\s+│\s+queued\s+│\s+{planned}", output)
    assert invoke("campaign", "pause", "june-shoes") == (0, "june-shoes: paused\n")
    assert invoke("campaign", "pause", "june-shoes") == (0, "june-shoes: paused\n")  # already
    assert invoke("campaign", "cancel", "june-shoes") == (0, "june-shoes: cancelled\n")
    code, output = invoke("campaign", "resume", "june-shoes")
    assert code == 1 and output.startswith("error: june-shoes: the campaign is cancelled")
    assert _rows_now(shop) == {"skipped": planned, "holdout": held}
    assert invoke("campaign", "status", "nope")[1] == "error: no campaign 'nope' (launch it first)\n"


def test_launch_without_a_configured_channel_says_so(shop: Path) -> None:
    code, output = invoke("campaign", "launch", str(shop))
    assert code == 1 and "no channel is configured (telegram)" in output


def test_launch_sends_through_telegram_and_test_send_marks_the_test(shop: Path, telegram: TelegramSandbox) -> None:
    code, output = invoke("campaign", "test-send", str(shop), "--to", "telegram:424242", "--customer", "C003")
    assert code == 0, output
    [test] = telegram.sent(424242)
    assert test.text and test.text.startswith("[TEST june-shoes · main · variant ")
    assert test.text.splitlines()[1] == "Hi Person3: 15% off with JUNE15." and telegram.sent(7003) == []
    code, output = invoke("campaign", "launch", str(shop))
    assert code == 0, output
    sent = int(re.search(r"sent (\d+), failed 0, skipped 0, unknown 0", output).group(1))  # type: ignore[union-attr]
    received = {n: telegram.sent(7000 + n) for n in range(CUSTOMERS)}
    assert sum(len(m) for m in received.values()) == sent and max(len(m) for m in received.values()) == 1
    assert all(m[0].text and m[0].text.startswith(f"Hi Person{n}:") for n, m in received.items() if m)
    assert received[3][0].text == test.text.split("\n", 1)[1]  # the test showed what C003 got
    assert _rows_now(shop)["sent"] == sent
    assert invoke("campaign", "status", "june-shoes")[1].startswith("june-shoes: done")
    code, output = invoke("campaign", "launch", str(shop))  # again: refused, nobody gets it twice
    assert code == 1 and output.endswith("\nerror: campaign 'june-shoes' is done: nobody more can be planned\n")
    assert sum(len(telegram.sent(7000 + n)) for n in range(CUSTOMERS)) == sent


def test_launching_a_recurring_campaign_starts_it_for_serve(shop: Path) -> None:
    weekly = shop.parent / "weekly.yaml"
    text = CAMPAIGN.replace("id: june-shoes", "id: weekly")
    weekly.write_text(text + "schedule: {cron: '0 9 * * 1', timezone: Europe/Berlin}\n")
    code, output = invoke("campaign", "launch", str(weekly))
    assert code == 0, output
    assert re.search(
        r"weekly: recurring \(0 9 \* \* 1\), running; first run 20\d\d-\d\d-\d\d 09:00 Europe/Berlin\.", output
    )
    assert "`chatcast serve` plans, writes and sends each run" in output
    assert _rows_now(shop) == {}  # nothing planned until the first run
    assert invoke("campaign", "status", "weekly")[1].startswith("weekly: running")


def test_test_send_and_preview_name_a_wrong_recipient_step_or_variant_in_one_line(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = invoke("campaign", "test-send", str(shop))
    assert code == 1 and output == (
        "error: give --to telegram:CHAT_ID or slack:TEAM/USER (your own chat), or set CHATCAST_TEST_RECIPIENT\n"
    )
    code, output = invoke("campaign", "test-send", str(shop), "--to", "sms:123")
    assert code == 1 and output == "error: --to: give telegram:CHAT_ID or slack:TEAM/USER, not 'sms:123'\n"
    monkeypatch.setenv("CHATCAST_TEST_RECIPIENT", "slack:T0SHOP")
    code, output = invoke("campaign", "test-send", str(shop))
    assert code == 1 and output.startswith("error: CHATCAST_TEST_RECIPIENT: give telegram:CHAT_ID or slack:TEAM/USER")
    monkeypatch.setenv("CHATCAST_TEST_RECIPIENT", "slack:T0SHOP/U0ME")
    code, output = invoke("campaign", "test-send", str(shop))
    assert code == 1 and output == "error: slack is not configured: set its token (see `chatcast config show`)\n"
    code, output = invoke("campaign", "preview", str(shop), "--step", "reminder")
    assert code == 1 and output == "error: june-shoes has no step 'reminder' (its steps: main)\n"
    code, output = invoke("campaign", "preview", str(shop), "--customer", "C999")
    assert code == 1 and output == "error: no customer 'C999'\n"
    assert _rows_now(shop) == {}


def test_test_send_refuses_a_variant_the_campaign_lacks(shop: Path, telegram: TelegramSandbox) -> None:
    code, output = invoke("campaign", "test-send", str(shop), "--to", "telegram:424242", "--variant", "c")
    assert code == 1 and output == "error: june-shoes has no variant 'c' (its variants: a, b)\n"
    code, output = invoke("campaign", "test-send", str(shop), "--to", "telegram:424242", "--variant", "b")
    assert code == 0 and "picked C000 (Person0 Test, persona bargain_hunter) from the audience" in output, output
    assert "(step main, variant b) as C000 gets it on telegram, to telegram:424242" in output
    [test] = telegram.sent(424242)
    assert test.text and test.text.startswith("[TEST june-shoes · main · variant b · as C000]\nHi Person0:")


def test_a_test_the_platform_refuses_is_one_line_naming_the_link(shop: Path, telegram: TelegramSandbox) -> None:
    shop.write_text(
        CAMPAIGN.replace('url: "https://shop.example/p/{{ product.sku }}"', 'url: "shop/{{ product.sku }}"')
    )
    code, output = invoke("campaign", "test-send", str(shop), "--to", "telegram:424242", "--customer", "C003")
    assert code == 1 and output.startswith("error: telegram refused the test message: Telegram: Bad Request:")
    assert output.rstrip().endswith("(links: [Shop] → shop/RUN-0)") and telegram.sent(424242) == []
    assert [v.split(":")[0] for v in telegram.violations] == ["sendMessage"]  # the sandbox saw the bad link too
    telegram.violations.clear()


def test_preview_and_launch_use_the_definitions_a_refresh_kept_and_need_the_shop_url_they_print(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHATCAST_SEGMENTS_FILE")
    code, output = invoke("campaign", "preview", str(shop))
    assert code == 1 and output.startswith(
        "error: no personas and segments: no segments file segments.yaml and none kept in the database: pass"
        " --segments FILE, set CHATCAST_SEGMENTS_FILE, or run `chatcast segments refresh --file FILE`"
    )
    code, output = invoke("segments", "refresh", "--file", str(SEGMENTS))
    assert code == 0, output
    code, output = invoke("campaign", "preview", str(shop))
    assert code == 0, output
    assert output.startswith(f"personas and segments: {SEGMENTS} as kept in the database by the last refresh, ")
    assert "everyone · variant a · telegram" in output
    shop.write_text(CAMPAIGN.replace("https://shop.example", "{{ shop.url }}"))
    code, output = invoke("campaign", "launch", str(shop), "--dry-run")
    assert code == 1 and output.strip().splitlines()[-1] == (
        f"error: {shop}:17: message.buttons[0].url: the template prints shop.url, but no shop URL is set: set"
        " CHATCAST_SHOP_URL to the shop's address (e.g. https://shop.example.com), or print it only inside"
        " {% if shop.url %}"
    )
    assert _rows_now(shop) == {}
    monkeypatch.setenv("CHATCAST_SHOP_URL", "https://shop.example.com")
    code, output = invoke("campaign", "launch", str(shop), "--dry-run")
    assert code == 0, output
    urls = asyncio.run(_button_urls(f"sqlite://{shop.parent / 'data' / 'chatcast.sqlite3'}"))
    assert urls and all(re.fullmatch(r"https://shop\.example\.com/p/RUN-\d", url) for url in urls)


async def _button_urls(url: str) -> list[str]:
    async with db.database(url):
        rows = await Delivery.filter(status="queued").values_list("buttons", flat=True)
    return [button["url"] for buttons in rows for button in buttons]  # type: ignore[union-attr]


PAST_WINDOW = """\
id: late
name: Late
channels: [telegram]
audience:
  personas: [everyone]
message:
  brief: b
  template: "Hi {{ customer.first_name }} {{ unsubscribe }}"
schedule:
  window: {start: "09:00", end: "17:00"}
  end_at: 2027-01-10T20:00:00
"""


async def _zoned_shop(url: str, zones: list[str]) -> None:
    async with db.database(url):
        if url.startswith("postgres"):
            await truncate()
        await Customer.all().delete()  # the shop's customers are these (their chats go with them)
        for n, zone in enumerate(zones):
            customer = await Customer.create(
                external_id=f"Z{n}", name="Zed Zone", persona="everyone", opted_in_at=datetime(2027, 1, 1, tzinfo=UTC),
                timezone=zone,
            )  # fmt: skip
            await ChannelIdentity.create(customer=customer, channel="telegram", address=str(9000 + n))


async def _state(url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str | None]]]:
    async with db.database(url):
        campaigns = await Campaign.all().values_list("key", "status")
        rows = await Delivery.all().order_by("id").values_list("status", "note")
    return list(campaigns), list(rows)


def test_a_schedule_that_can_never_send_to_its_audience_is_refused_and_no_campaign_stays_planned(
    backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch, telegram: TelegramSandbox
) -> None:
    """Issue #26: a campaign whose window had passed for every customer (in their own zones) planned its rows,
    skipped them all after_end and stayed planned forever. Launch now refuses it before writing anything; where
    some customers can still get it, the rest are skipped and said so, and the campaign ends."""
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", str(SEGMENTS))
    monkeypatch.setenv("CHATCAST_TIMEZONE", "Europe/Berlin")
    (isolated / "late.yaml").write_text(PAST_WINDOW, encoding="utf-8")
    asyncio.run(_zoned_shop(backend, ["Pacific/Auckland", "Pacific/Auckland", "Asia/Tokyo"]))
    with time_machine.travel(datetime(2027, 1, 10, 11, tzinfo=UTC), tick=False):  # 12:00 in Berlin
        assert invoke("campaign", "validate", "late.yaml")[0] == 0  # in Berlin, the window is open till 17:00
        code, output = invoke("campaign", "launch", "late.yaml")
    assert code == 1 and " ".join(output.split()).endswith(
        "error: late.yaml:11: schedule.end_at: nothing can be sent before end_at 2027-01-10 20:00 Europe/Berlin to"
        " anyone in the audience: in the customers' own time zones, the first moment the window 09:00-17:00 allow"
        " is 2027-01-11 09:00 Pacific/Auckland (2027-01-10 21:00 Europe/Berlin) at the earliest; set a later end_at"
    )
    assert asyncio.run(_state(backend)) == ([], [])  # nothing registered, nothing planned
    asyncio.run(_zoned_shop(backend, ["Pacific/Auckland", "Europe/Berlin"]))
    with time_machine.travel(datetime(2027, 1, 10, 11, tzinfo=UTC), tick=False):
        code, output = invoke("campaign", "launch", "late.yaml")
    assert code == 0, output
    flat = " ".join(output.split())
    assert "1 skipped: in their own time zone the schedule's first moment for them comes after end_at" in flat
    campaigns, rows = asyncio.run(_state(backend))
    assert campaigns == [("late", "done")] and sorted(rows, key=str) == [("sent", None), ("skipped", "after_end")]
    assert [m.text for m in telegram.sent(9001)] == ["Hi Zed Reply STOP to unsubscribe."]


def test_a_launch_with_no_channel_to_send_on_writes_nothing(shop: Path) -> None:
    code, output = invoke("campaign", "launch", str(shop))
    assert code == 1 and "no channel is configured (telegram)" in output
    assert _rows_now(shop) == {} and invoke("campaign", "status", "june-shoes")[0] == 1  # no campaign left planned

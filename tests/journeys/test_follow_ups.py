"""A campaign with two follow-ups, lived through the CLI over five days: a shop is imported, the campaign launched
inside a sending window with one customer in ten held out, a customer presses a button while ``serve`` runs, another
buys (and so does the held-out one), and ``serve --once`` is run as cron would while the clock travels. Each
follow-up reaches exactly the customers its ``when`` selects, in their own morning-to-evening window, saying its own
words (a variant's own words where the variant gives them); the campaign is done only after the last window has
closed, and the report counts what happened."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.journeys.chats import TEAM, Chats
from tests.fakes.service import serving

pytestmark = pytest.mark.slow

MONDAY = datetime(2027, 4, 5, 6, 30, tzinfo=UTC)  # Tokyo 15:30, Berlin 08:30, New York 02:30
CAMPAIGN = """\
id: spring-journey
name: Spring journey
channels: [telegram, slack]
audience: {holdout: 10%}
message:
  brief: The spring collection is in.
  template: "Hi {{ customer.first_name }}, the spring collection is in. {{ unsubscribe }}"
  buttons:
    - {text: Tell me more, action: more}
variants:
  - id: plain
  - id: bold
    template: "BOLD {{ customer.first_name }}: spring is here. {{ unsubscribe }}"
    steps:
      reminder: {template: "BOLD reminder, {{ customer.first_name }}: spring is still here. {{ unsubscribe }}"}
schedule:
  window: {start: "09:00", end: "20:00"}
follow_ups:
  - id: reminder
    after: 2d
    when: [not_clicked]
    message:
      brief: A gentle reminder.
      template: "Reminder for {{ customer.first_name }}: the spring collection is waiting. {{ unsubscribe }}"
  - id: last-call
    after: 1d
    when: [not_purchased]
    message:
      brief: The last call.
      template: "Last call, {{ customer.first_name }}: spring prices end soon. {{ unsubscribe }}"
"""
SEGMENTS = "personas:\n  - {id: everyone, description: Everyone., tone: Friendly.}\n"
PRODUCTS = "sku,name,category,price,currency\nRUN-1,Runner,running-shoes,90,EUR\n"
HEADER = "external_id,name,language,timezone,opted_in_at,telegram_chat_id,slack_user\n"
PEOPLE = {  # key: (name, zone, telegram chat or Slack user)
    "C1": ("Ann Ito", "Asia/Tokyo", "5001"),
    "C2": ("Dan Abe", "Asia/Tokyo", "5002"),  # presses "Tell me more": no reminder
    "C7": ("Gil Mori", "Asia/Tokyo", "5007"),  # held out (one in ten, by the hash of the third customer): buys anyway
    "C3": ("Eve Sato", "Asia/Tokyo", "5003"),  # buys after her reminder: no last call
    "C4": ("Ben Roth", "Europe/Berlin", "5004"),
    "C5": ("Cat Hale", "America/New_York", "U0CAT"),
    "C6": ("Fay Lin", "Europe/Berlin", "5006"),  # never opted in: nothing at all
}
ORDER = "order_id,line,customer_id,ordered_at,status,currency,sku,quantity,unit_price\n"


def write_shop(folder: Path) -> None:
    (folder / "segments.yaml").write_text(SEGMENTS, encoding="utf-8")
    (folder / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    rows = []
    for key, (name, zone, chat) in PEOPLE.items():
        consent = "" if key == "C6" else "2027-01-01T00:00:00+00:00"
        telegram, slack = ("", f"{TEAM}/{chat}") if chat.startswith("U") else (chat, "")
        rows.append(f"{key},{name},en,{zone},{consent},{telegram},{slack}\n")
    (folder / "customers.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    (folder / "spring.yaml").write_text(CAMPAIGN, encoding="utf-8")


def received(chats: Chats) -> dict[str, list[tuple[str, datetime]]]:
    """Every customer's messages from the shop, with when each arrived."""
    out: dict[str, list[tuple[str, datetime]]] = {}
    for key, (_, _, chat) in PEOPLE.items():
        if chat.startswith("U"):
            dm = chats.slack.dm(TEAM, chat)
            out[key] = [(m.text, datetime.fromtimestamp(float(m.ts), UTC)) for m in dm]
        else:
            sent = chats.telegram.sent(int(chat))
            out[key] = [(m.text or "", datetime.fromtimestamp(m.date, UTC)) for m in sent]
    return out


def once(cli: Cli) -> str:
    output = cli.ok("serve", "--once")
    assert output.startswith("serve --once at ") and "channels slack, telegram" in output
    return output


def status(cli: Cli) -> str:
    return cli.ok("campaign", "status", "spring-journey")


def test_follow_ups_reach_the_right_customers_in_their_window_with_their_own_words_until_the_last_window_closes(
    shop: Path, cli: Cli, chats: Chats, clock: WallClock
) -> None:
    clock.to(MONDAY)
    write_shop(shop)
    chats.add_slack_user("U0CAT", "Cat Hale")
    for kind in ("products", "customers"):
        cli.ok("import", kind, f"{kind}.csv")
    cli.ok("segments", "refresh", "--file", "segments.yaml")
    validated = cli.ok("campaign", "validate", "spring.yaml", "--segments", "segments.yaml")
    assert "  reminder / variant bold: the follow-up's own brief, the variant's reminder template" in validated
    assert "  last-call / every variant: the follow-up's own brief and template" in validated

    launched = cli.ok("campaign", "launch", "spring.yaml", "--segments", "segments.yaml")
    assert "spring-journey: 5 planned, 1 held out" in launched and "sent 3, failed 0" in launched  # Tokyo in window
    variant = {key: ("bold" if m[0][0].startswith("BOLD") else "plain") for key, m in received(chats).items() if m}
    assert set(variant) == {"C1", "C2", "C3"}

    with serving():  # Dan presses "Tell me more" under his message while the service runs
        [message] = chats.telegram.sent(5002)
        [[button]] = message.reply_markup["inline_keyboard"]  # type: ignore[index]
        chats.run(chats.telegram.user_presses(5002, message.message_id, button["callback_data"]))
        chats.wait(lambda: len(chats.telegram.answered_callbacks) == 1)

    clock.to(MONDAY + timedelta(hours=1))  # 09:30 in Berlin
    assert "sent 1, failed 0" in once(cli)
    clock.to(MONDAY + timedelta(hours=7))  # 09:30 in New York
    assert "sent 1, failed 0" in once(cli)
    news = received(chats)
    variant |= {key: ("bold" if news[key][0][0].startswith("BOLD") else "plain") for key in ("C4", "C5")}
    assert set(variant.values()) == {"bold", "plain"}  # both variants are lived
    report = status(cli)  # every row is final: yet the campaign runs, its reminders ahead
    assert report.startswith("spring-journey: running") and "follow-ups ahead:" in report
    assert "reminder (2d after main, when not_clicked): 5 customers with an open window: the next can fire" in report
    assert "last-call (1d after reminder, when not_purchased): once the reminder messages go out" in report
    assert "the last follow-up can fire not before 2027-04-08 13:3" in report

    clock.to(MONDAY + timedelta(days=2, minutes=5))  # Wednesday: the Tokyo windows closed
    output = once(cli)
    assert "follow-ups planned: spring-journey 2" in output and "sent 2, failed 0" in output
    clock.to(MONDAY + timedelta(days=2, hours=1, minutes=30))  # 09:30 in Berlin: Eve has bought since
    bought = {"C3": "W-1", "C7": "W-2"}  # Eve after her reminder, and Gil, held out
    rows = [f"{order},1,{key},2027-04-07T07:55:00+00:00,paid,EUR,RUN-1,1,90\n" for key, order in bought.items()]
    (shop / "orders.csv").write_text(ORDER + "".join(rows))
    imported = cli.ok("import", "orders", "orders.csv")
    assert "1 order credited to campaigns" in imported  # Eve's, to her reminder; Gil got no message to credit
    assert "sent 1, failed 0" in once(cli)  # Ben's reminder

    clock.to(MONDAY + timedelta(days=3, minutes=30))  # Thursday 07:00: Cat's reminder planned late, due at 09:00
    output = once(cli)  # in New York; Ann's last call goes at once
    assert "follow-ups planned: spring-journey 2" in output and "sent 1, failed 0" in output
    report = status(cli)
    assert "last-call (1d after reminder, when not_purchased): 1 customer with an open window" in report
    assert "1 more once their reminder message is sent" in report

    clock.to(MONDAY + timedelta(days=3, hours=6, minutes=35))  # Thursday 09:05 in New York
    output = once(cli)  # Cat's reminder; Ben's last call
    assert "sent 2, failed 0" in output and "campaigns done: none" in output
    report = status(cli)  # every row is final again, and Cat's last window is open until Friday
    assert report.startswith("spring-journey: running")
    assert re.search(r"the last follow-up can fire at 2027-04-09 13:0\d UTC", report), report

    clock.to(MONDAY + timedelta(days=4, hours=6, minutes=30))  # Friday 13:00: Cat's window closes at 13:05
    assert "campaigns done: none" in once(cli)
    clock.to(MONDAY + timedelta(days=4, hours=6, minutes=45))
    output = once(cli)
    assert "sent 1, failed 0" in output and "campaigns done: spring-journey" in output
    report = status(cli)
    assert report.startswith("spring-journey: done") and "no step is ahead: the campaign is done" in report

    said = received(chats)
    first = {key: name.split()[0] for key, (name, _, _) in PEOPLE.items()}
    reminder = {
        "bold": "BOLD reminder, {}: spring is still here.",
        "plain": "Reminder for {}: the spring collection is waiting.",
    }
    expected = {
        "C1": ["main", "reminder", "last-call"],
        "C2": ["main"],
        "C3": ["main", "reminder"],
        "C4": ["main", "reminder", "last-call"],
        "C5": ["main", "reminder", "last-call"],
        "C6": [],
        "C7": [],
    }
    for key, steps in expected.items():
        texts = [text for text, _ in said[key]]
        assert len(texts) == len(steps), (key, texts)
        for text, step in zip(texts, steps, strict=True):
            if step == "reminder":
                assert text.startswith(reminder[variant[key]].format(first[key])), (key, text)
            elif step == "last-call":  # its own words, whatever the variant
                assert text.startswith(f"Last call, {first[key]}: spring prices end soon."), (key, text)
        zone = ZoneInfo(PEOPLE[key][1])
        for text, at in said[key]:
            assert 9 <= at.astimezone(zone).hour < 20, (key, text, at)

    report = json.loads(cli.ok("report", "campaign", "spring-journey", "--json"))
    steps = {
        step: (f["targeted"], f["holdout"], f["sent"], f["clicked"], f["converted"])
        for step, f in report["by"]["step"].items()
    }
    assert steps == {"main": (6, 1, 5, 1, 0), "reminder": (4, 0, 4, 0, 1), "last-call": (3, 0, 3, 0, 0)}
    assert report["funnel"]["revenue"] == {"EUR": 90} and report["status"] == "done"
    lift = report["lift_over_holdout"]  # intent to treat: the five assigned, all of them reached
    assert (lift["assigned"]["trials"], lift["assigned"]["successes"]) == (5, 1)  # Eve bought within the span
    assert (lift["reached"]["trials"], lift["reached"]["successes"]) == (5, 1)
    assert (lift["holdout"]["trials"], lift["holdout"]["successes"]) == (1, 1)  # and so did Gil

"""The shop's Slack workspace removes the app while a campaign goes out at 18:30 on each customer's clock, lived
from an empty database through the CLI: Berlin's customers get it; then the app is uninstalled; New York's Slack
customers are parked (skipped, workspace_uninstalled), New York's Telegram customer gets it, nothing failed and
nobody's consent changed. ``campaign status`` and the report say so. The app is installed again with a new
token: the next campaign reaches everyone on Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.journeys.chats import TEAM, Chats

pytestmark = pytest.mark.slow

MONDAY = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
BERLIN_EVENING = datetime(2027, 5, 3, 16, 35, tzinfo=UTC)  # 18:35 in Berlin (summer time)
NEW_YORK_EVENING = datetime(2027, 5, 3, 22, 35, tzinfo=UTC)  # 18:35 in New York
# key, name, zone, Telegram chat or Slack user
PEOPLE = [
    ("C1", "Ann Berg", "Europe/Berlin", "U0ANN"),
    ("C2", "Ben Cole", "America/New_York", "U0BEN"),
    ("C3", "Cat Dunn", "America/New_York", "U0CAT"),
    ("C4", "Dirk Lang", "Europe/Berlin", "7104"),
    ("C5", "Eva Nagy", "America/New_York", "7105"),
]
PERSONAS = "personas:\n  - {id: everyone, description: Everyone, tone: friendly}\n"
EVENING = """\
id: evening
name: Evening news
channels: [slack, telegram]
message:
  brief: The new spring colours are in.
  template: 'Hi {{ customer.first_name }}: the new spring colours are in. {{ unsubscribe }}'
schedule:
  local_time: "18:30"
"""
AGAIN = EVENING.replace("id: evening", "id: welcome-back").split("schedule:")[0]


def write_shop(folder: Path) -> None:
    rows = ["external_id,name,language,timezone,opted_in_at,telegram_chat_id,slack_user\n"]
    for key, name, zone, chat in PEOPLE:
        telegram, slack = ("", f"{TEAM}/{chat}") if chat.startswith("U") else (chat, "")
        rows.append(f"{key},{name},en,{zone},2027-01-01T00:00:00+00:00,{telegram},{slack}\n")
    (folder / "customers.csv").write_text("".join(rows), encoding="utf-8")
    (folder / "segments.yaml").write_text(PERSONAS, encoding="utf-8")
    (folder / "evening.yaml").write_text(EVENING, encoding="utf-8")
    (folder / "welcome-back.yaml").write_text(AGAIN, encoding="utf-8")


def slack_dms(chats: Chats, user: str) -> int:
    return len(chats.slack.dm(TEAM, user))


def test_an_uninstalled_workspace_is_parked_and_comes_back_after_a_reinstall(
    shop: Path, cli: Cli, chats: Chats, clock: WallClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.to(MONDAY)
    write_shop(shop)
    for _, name, _, chat in PEOPLE:
        if chat.startswith("U"):
            chats.add_slack_user(chat, name)
    cli.ok("import", "customers", "customers.csv")
    launched = cli.ok("campaign", "launch", "evening.yaml")
    assert "evening: 5 planned" in launched and "messages wait for their time" in launched, launched

    clock.to(BERLIN_EVENING)
    assert "sent 2, failed 0" in cli.ok("serve", "--once")
    assert slack_dms(chats, "U0ANN") == 1 and len(chats.telegram.sent(7104)) == 1

    chats.run(chats.slack.uninstall(TEAM))  # the workspace's admin removes the app; nobody tells Chatcast
    clock.to(NEW_YORK_EVENING)
    output = cli.ok("serve", "--once")
    assert "sent 1, failed 0, skipped 2" in output, output
    assert len(chats.telegram.sent(7105)) == 1 and slack_dms(chats, "U0BEN") == slack_dms(chats, "U0CAT") == 0

    status = cli.ok("campaign", "status", "evening")
    assert status.startswith("evening: done") and "skipped: workspace_uninstalled 2" in status, status
    assert f"2 parked: their workspace no longer has the app (without it now: slack {TEAM}, account_inactive" in status
    assert "nobody's consent changed" in status
    figures = json.loads(cli.ok("report", "campaign", "evening", "--json"))
    main = figures["by"]["step"]["main"]
    assert (main["sent"], main["failed"], main["skipped_by"]) == (3, 0, {"workspace_uninstalled": 2})
    for key in ("C2", "C3"):  # parked, not gone: still subscribed, their chat still reachable, no opt-out
        export = json.loads(cli.ok("customer", "export", key))
        assert export["customer"]["opted_out_at"] is None and export["customer"]["opted_in_at"]
        assert all(chat["reachable"] for chat in export["chat_identities"])
        assert not [e for e in export["events"] if e["type"] == "opted_out"]

    # the admin installs the app again, and the shop sets its new bot token: the next campaign reaches them all
    monkeypatch.setenv("CHATCAST_SLACK_BOT_TOKEN", chats.slack.add_team(TEAM, name="Shop"))
    output = cli.ok("campaign", "launch", "welcome-back.yaml")
    assert "sent 5, failed 0, skipped 0" in output, output
    assert [slack_dms(chats, user) for user in ("U0ANN", "U0BEN", "U0CAT")] == [2, 1, 1]
    status = cli.ok("campaign", "status", "evening")
    assert "2 parked: their workspace had uninstalled the app (installed again since)" in status, status

"""A shop with a frequency cap of one message a day launches two campaigns on the same morning, as a marketer
does, and runs ``serve --once`` from cron. The second launch sends nothing (every customer had their message
today) and returns at once, saying that its messages wait; ``serve --once`` returns at once too, counting them;
a day later ``serve --once`` sends them. Neither command waits out the cap (a day) in the foreground."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.journeys.chats import Chats

pytestmark = pytest.mark.slow

MORNING = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
SEGMENTS = "personas:\n  - {id: everyone, description: Everyone., tone: Friendly.}\n"
CUSTOMERS = (
    "external_id,name,language,timezone,opted_in_at,telegram_chat_id\n"
    "K1,Kim Berg,en,UTC,2027-01-01T00:00:00+00:00,6101\n"
    "K2,Lou Falk,en,UTC,2027-01-01T00:00:00+00:00,6102\n"
)
CAMPAIGN = """\
id: {key}
name: {key}
channels: [telegram]
message:
  brief: News.
  template: "{key} for {{{{ customer.first_name }}}}. {{{{ unsubscribe }}}}"
"""


def bounded(cli: Cli, *args: str, seconds: float = 60) -> str:
    """``cli.ok(*args)``, which must return within ``seconds`` (a command waiting out a cap would take a day)."""
    box: dict[str, str] = {}
    worker = threading.Thread(target=lambda: box.setdefault("out", cli.ok(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"chatcast {' '.join(args)} was still running after {seconds} s"
    return box["out"]


def test_capped_messages_wait_for_a_later_run_instead_of_holding_the_command(
    shop: Path, cli: Cli, chats: Chats, clock: WallClock, monkeypatch
) -> None:
    monkeypatch.setenv("CHATCAST_FREQUENCY_CAP_DAY", "1")
    (shop / "segments.yaml").write_text(SEGMENTS, encoding="utf-8")
    (shop / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    for key in ("first", "second"):
        (shop / f"{key}.yaml").write_text(CAMPAIGN.format(key=key), encoding="utf-8")
    clock.to(MORNING)
    cli.ok("import", "customers", "customers.csv")
    cli.ok("segments", "refresh", "--file", "segments.yaml")

    assert "sent 2, failed 0" in cli.ok("campaign", "launch", "first.yaml")
    second = bounded(cli, "campaign", "launch", "second.yaml")
    assert "sent 0, failed 0" in second and "2 messages wait" in second

    assert re.search(r"2 due messages wait for a retry or a frequency cap", bounded(cli, "serve", "--once"))
    texts = {chat: [m.text for m in chats.telegram.sent(chat)] for chat in (6101, 6102)}
    assert texts == {
        6101: ["first for Kim. Reply STOP to unsubscribe."],
        6102: ["first for Lou. Reply STOP to unsubscribe."],
    }

    clock.shift(timedelta(days=1, minutes=1))
    later = bounded(cli, "serve", "--once")
    assert "sent 2, failed 0" in later and "wait for a retry" not in later
    assert [len(chats.telegram.sent(chat)) for chat in (6101, 6102)] == [2, 2]
    assert all(chats.telegram.sent(chat)[1].text.startswith("second for") for chat in (6101, 6102))

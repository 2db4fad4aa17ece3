"""Unknown Slack deliveries reconciled through the CLI, on SQLite and PostgreSQL, with the real slack-sdk client and
the Slack sandbox: a launch whose answers were lost after Slack posted the messages leaves them ``unknown``;
``chatcast serve --once`` finds them in the DMs by their metadata and ``campaign status`` shows them sent. A launch
whose requests never reached Slack leaves them unknown until the claim's lease has passed; then ``serve --once``
sends them again, once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bots.slack.sandbox.server import SlackSandbox
from storage import db
from storage.sql import script
from tests.fakes.cli import invoke
from tests.fakes.databases import TABLES
from tests.fakes.sandboxes import SIGNING, served_in_thread

TEAM, CLEO, DAN = "T0SHOP", "U0CLEO", "U0DAN"
CAMPAIGN = """\
id: {key}
name: {key}
channels: [slack]
audience:
  personas: [everyone]
message:
  brief: A hello.
  template: |
    Hello {{{{ customer.first_name }}}}, {key} is here.
    {{{{ unsubscribe }}}}
"""


async def empty(url: str) -> None:
    if url.startswith("postgres"):
        async with db.database(url):
            await script("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE")


@pytest.fixture
def shop(backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    asyncio.run(empty(backend))
    (isolated / "segments.yaml").write_text("personas:\n  - {id: everyone, description: Everyone, tone: friendly}\n")
    for key in ("spring", "summer"):
        (isolated / f"{key}.yaml").write_text(CAMPAIGN.format(key=key))
    (isolated / "customers.csv").write_text(
        "external_id,name,language,opted_in_at,slack_user\n"
        f"C1,Cleo Park,en,2026-01-01T00:00:00+00:00,{TEAM}/{CLEO}\n"
        f"C2,Dan Wu,en,2026-01-01T00:00:00+00:00,{TEAM}/{DAN}\n"
    )
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", str(isolated / "segments.yaml"))
    return isolated


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch, slack_spec: Path) -> Iterator[SlackSandbox]:
    sandbox = SlackSandbox(spec=slack_spec, signing_secret=SIGNING)
    with served_in_thread(sandbox):
        token = sandbox.add_team(TEAM, name="Shop")
        for user in (CLEO, DAN):
            sandbox.add_user(TEAM, user)
        for name, value in {"SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": SIGNING,
                            "SLACK_API_URL": sandbox.base_url}.items():  # fmt: skip
            monkeypatch.setenv(f"CHATCAST_{name}", value)
        yield sandbox
        assert sandbox.violations == []


def rows(campaign: str) -> tuple[str, dict[str, int]]:
    """``campaign status``: the campaign's status, and its rows' count per status."""
    output = invoke.ok("campaign", "status", campaign)
    status = output.split(":", 1)[1].split()[0]
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if "│" in line]
    return status, {row_status: int(n.replace(",", "")) for _, row_status, n in cells}


def test_serve_once_reconciles_unknown_slack_deliveries(shop: Path, slack: SlackSandbox) -> None:
    invoke.ok("import", "customers", "customers.csv")
    invoke.ok("segments", "refresh")

    slack.fault_next("chat.postMessage", "lost", times=2)  # Slack posts them; the answers never come back
    assert "sent 0, failed 0, skipped 0, unknown 2" in invoke.ok("campaign", "launch", "spring.yaml")
    assert rows("spring") == ("done", {"unknown": 2})  # unknown is final: the campaign is done
    output = invoke.ok("serve", "--once")
    assert "unknown deliveries looked up: 2 found delivered (now sent), 0 not delivered and queued again" in output
    assert rows("spring") == ("done", {"sent": 2})
    assert [len(slack.dm(TEAM, user)) for user in (CLEO, DAN)] == [1, 1]

    slack.fault_next("chat.postMessage", "disconnect", times=2)  # dropped before Slack carried them out
    assert "unknown 2" in invoke.ok("campaign", "launch", "summer.yaml")
    output = invoke.ok("serve", "--once")  # a request of those claims could still be on its way: wait
    assert "0 found delivered (now sent), 0 not delivered and queued again, 0 not delivered (failed), 2 still" in output
    assert rows("summer") == ("done", {"unknown": 2})
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11), tick=True):  # the claims' lease has passed
        output = invoke.ok("serve", "--once")
        assert "2 not delivered and queued again" in output and "sent 2, failed 0" in output
        assert rows("summer") == ("done", {"sent": 2})
    for user in (CLEO, DAN):
        said = [m.text.splitlines()[0].split(", ")[1] for m in slack.dm(TEAM, user)]
        assert said == ["spring is here.", "summer is here."]  # each once, in order
        assert all(m.metadata and m.metadata["event_type"] == "chatcast_delivery" for m in slack.dm(TEAM, user))
    assert invoke.ok("serve", "--once").count("0 still unknown") == 1  # nothing left to look up

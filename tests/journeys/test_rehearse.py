"""A campaign rehearsed through the CLI from an empty shop: a sending window, two variants, a holdout and two
follow-ups (not_clicked, then not_purchased), six simulated days in seconds. The follow-ups fire on their days,
in each customer's window, with their own words, to exactly the customers their conditions leave; the funnel the
rehearsal prints is what its scratch copy holds; the shop's own database is not touched, the sandboxes got every
message, and no real platform was called, whatever tokens the settings hold."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chatcast.cli import app
from storage import db
from storage.sql import fetch
from tests.fakes.cli import Cli

pytestmark = pytest.mark.slow

MONDAY = datetime(2027, 4, 5, 6, 30, tzinfo=UTC)  # Tokyo 15:30, Berlin 08:30, New York 02:30
CAMPAIGN = """\
id: rehearsal-journey
name: Rehearsal journey
channels: [telegram, slack]
audience:
  holdout: 0.1
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
      buttons:
        - {text: Show me, action: more}
  - id: last-call
    after: 1d
    when: [not_purchased]
    message:
      brief: The last call.
      template: "Last call, {{ customer.first_name }}: spring prices end soon. {{ unsubscribe }}"
"""
SEGMENTS = """\
personas:
  - {id: german, description: German speakers., tone: Direct., when: {language: de}}
  - {id: everyone, description: Everyone else., tone: Friendly.}
"""
PRODUCTS = (
    "sku,name,category,price,currency,stock\n"
    "RUN-1,Runner,running-shoes,90,EUR,50\n"
    "RUN-2,Trail,running-shoes,120,EUR,9\n"
)
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo")
PEOPLE = 180
TEXTS = {  # (step, variant) -> how the message begins
    ("main", "plain"): "Hi ",
    ("main", "bold"): "BOLD ",
    ("reminder", "plain"): "Reminder for ",
    ("reminder", "bold"): "BOLD reminder, ",
    ("last-call", "plain"): "Last call, ",
    ("last-call", "bold"): "Last call, ",
}


def write_shop(folder: Path) -> None:
    rows = ["external_id,name,language,timezone,opted_in_at,telegram_chat_id,slack_user"]
    for n in range(PEOPLE):
        zone = ZONES[n % 3]
        language = "de" if zone == "Europe/Berlin" else "en"
        chat, slack = (str(7000 + n), "") if n % 4 else ("", f"T0SHOP/U{n:07d}")
        rows.append(f"K{n:04d},Person{n} Test,{language},{zone},2027-01-01T00:00:00+00:00,{chat},{slack}")
    (folder / "customers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    (folder / "segments.yaml").write_text(SEGMENTS, encoding="utf-8")
    (folder / "campaign.yaml").write_text(CAMPAIGN, encoding="utf-8")


class Offline:
    """Every connection the process tries that does not stay on this machine: refused, and remembered."""

    LOOPBACK = ("127.", "::1", "localhost")

    def __init__(self) -> None:
        self.tried: list[str] = []

    def local(self, host: object) -> bool:
        return not isinstance(host, str) or host.startswith(self.LOOPBACK)

    def refuse(self, host: object) -> None:
        self.tried.append(str(host))
        raise OSError(f"the test is offline: {host}")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Offline]:
    """No network but loopback: name lookups and connections elsewhere fail, and are listed."""
    guard = Offline()
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not guard.local(host):
            guard.refuse(host)
        return lookup(host, *args, **kwargs)

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not guard.local(address[0]):
            guard.refuse(address[0])
        return connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield guard


async def _fingerprint(url: str) -> dict[str, tuple[int, str]]:
    async with db.database(url, upgrade_schema=False):
        if db.dialect() == "postgres":
            names = await fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        else:
            names = await fetch("SELECT name FROM sqlite_master WHERE type = 'table'")
        found = {}
        for (table,) in names:
            rows = sorted(repr(r) for r in await fetch(f'SELECT * FROM "{table}"'))
            found[str(table)] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return found


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Every table of the database: its row count and a checksum of its rows."""
    return asyncio.run(_fingerprint(url))


def rehearse(cli: Cli, *args: str) -> tuple[str, str]:
    """``chatcast campaign rehearse`` on the shop's campaign; its stdout and stderr (it must succeed)."""
    result = cli.runner.invoke(app, ["campaign", "rehearse", "campaign.yaml", "--start", MONDAY.isoformat(), *args])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    return result.stdout, result.stderr


def moment(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


class Copy:
    """The rehearsal's scratch copy, kept to be read back."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        [(self.id,)] = self.conn.execute("SELECT id FROM campaign WHERE key = 'rehearsal-journey'")

    def rows(self, step: str) -> dict[str, dict[str, Any]]:
        """The step's deliveries by customer: status, variant, persona, when sent, the text, the customer's zone."""
        found = self.conn.execute(
            "SELECT c.external_id, d.status, d.variant, d.persona, d.sent_at, d.text, c.timezone, c.persona, d.note"
            " FROM delivery d JOIN customer c ON c.id = d.customer_id WHERE d.campaign_id = ? AND d.step = ?",
            (self.id, step),
        )
        keys = ("status", "variant", "persona", "sent_at", "text", "zone", "customer_persona", "note")
        return {str(r[0]): dict(zip(keys, r[1:], strict=True)) for r in found}

    def acted(self, what: str) -> dict[str, list[datetime]]:
        """When each customer clicked (this campaign), opted out, or bought."""
        if what == "bought":
            sql = 'SELECT c.external_id, o.ordered_at FROM "order" o JOIN customer c ON c.id = o.customer_id'
            found = self.conn.execute(sql + " WHERE NOT o.is_return")
        else:
            campaign = " AND e.campaign_id = ?" if what == "clicked" else ""
            sql = "SELECT c.external_id, e.at FROM event e JOIN customer c ON c.id = e.customer_id WHERE e.type = ?"
            found = self.conn.execute(sql + campaign, (what, self.id) if campaign else (what,))
        out: dict[str, list[datetime]] = {}
        for key, at in found:
            out.setdefault(str(key), []).append(moment(at))
        return out

    def recount(self) -> dict[tuple[str, str], dict[str, int]]:
        """The funnel per step and variant, counted here afresh: deliveries sent, with a click, a reply or an
        attributed order, whose customer opted out after them, or skipped because the bot was blocked."""
        rows = self.conn.execute(
            "SELECT d.id, d.step, d.variant, d.status, d.note, d.sent_at, d.customer_id FROM delivery d"
            " WHERE d.campaign_id = ?",
            (self.id,),
        ).fetchall()
        events: dict[tuple[int, str], int] = {}
        for delivery, kind in self.conn.execute(
            "SELECT delivery_id, type FROM event WHERE campaign_id = ? AND delivery_id IS NOT NULL", (self.id,)
        ):
            events[(delivery, kind)] = 1
        first = min(moment(r[5]) for r in rows if r[5])
        out_at: dict[int, datetime] = {}
        for customer, at in self.conn.execute("SELECT customer_id, at FROM event WHERE type = 'opted_out'"):
            if moment(at) >= first:
                out_at[customer] = max(out_at.get(customer, moment(at)), moment(at))
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for delivery, step, variant, status, note, sent_at, customer in rows:
            c = counts.setdefault((step, variant), dict.fromkeys(("sent", "clicked", "replied", "converted",
                                                                   "opted_out", "blocked", "holdout"), 0))  # fmt: skip
            c["sent"] += status == "sent"
            c["holdout"] += status == "holdout"
            c["blocked"] += status == "skipped" and note in ("blocked", "deactivated")
            c["clicked"] += events.get((delivery, "clicked"), 0)
            c["replied"] += events.get((delivery, "replied"), 0)
            c["converted"] += events.get((delivery, "converted"), 0)
            c["opted_out"] += bool(sent_at and customer in out_at and out_at[customer] >= moment(sent_at))
        return counts


def owed(previous: dict[str, dict[str, Any]], after: timedelta, excluded: dict[str, list[datetime]],
         opted_out: dict[str, list[datetime]]) -> set[str]:  # fmt: skip
    """The customers a follow-up is owed to: sent the previous step, and in the window after it neither did what
    ``excluded`` lists nor opted out before the window closed (the sends of that moment come after the sweep)."""
    out = set()
    for key, row in previous.items():
        if row["status"] != "sent":
            continue
        sent = moment(row["sent_at"])
        if any(sent <= at < sent + after for at in excluded.get(key, [])):
            continue
        if any(at < sent + after for at in opted_out.get(key, [])):  # the sweep runs as the window closes
            continue
        out.add(key)
    return out


@pytest.fixture
def shop_with_tokens(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shop's files, and the settings of real bots: tokens the rehearsal must never use."""
    write_shop(shop)
    monkeypatch.setenv("CHATCAST_TELEGRAM_BOT_TOKEN", "123456:REAL-TOKEN-NEVER-TO-BE-USED")
    monkeypatch.setenv("CHATCAST_SLACK_BOT_TOKEN", "xoxb-real-token-never-to-be-used")
    monkeypatch.setenv("CHATCAST_SLACK_SIGNING_SECRET", "real-signing-secret")
    monkeypatch.setenv("CHATCAST_SLACK_API_URL", "https://slack.com/api/")
    monkeypatch.setattr(tempfile, "tempdir", str(shop / "tmp"))
    (shop / "tmp").mkdir()
    return shop


def test_a_rehearsal_lives_the_journey_on_a_scratch_copy_and_reports_what_it_holds(
    backend: str, shop_with_tokens: Path, cli: Cli, offline: Offline
) -> None:
    shop = shop_with_tokens
    for kind in ("products", "customers"):
        cli.ok("import", kind, f"{kind}.csv")
    cli.ok("segments", "refresh", "--file", "segments.yaml")
    before = fingerprint(backend)

    stdout, _ = rehearse(cli, "--days", "6", "--seed", "7", "--keep", "kept", "--json", "--segments", "segments.yaml")
    report = json.loads(stdout)
    assert fingerprint(backend) == before  # the shop's database: not a row more, less or changed
    assert offline.tried == []  # neither api.telegram.org nor slack.com, whatever the settings say
    assert report["scratch"]["source"] == ("postgres" if backend.startswith("postgres") else "sqlite")
    assert report["start"] == MONDAY.isoformat() and report["status"] == "done"
    assert report["done_at"] == "2027-04-08T13:00:00+00:00"  # the last last-call, 09:00 in New York on Thursday
    copy = Copy(Path(report["scratch"]["kept"]))
    main, reminder, last = (copy.rows(step) for step in ("main", "reminder", "last-call"))

    # the follow-ups fire on their days (the shop's days, UTC here: Monday is day 1)
    days = {(e["step"], e["day"]) for e in report["sent_per_day"]}
    assert {d for s, d in days if s == "main"} == {1}
    assert {d for s, d in days if s == "reminder"} == {3}  # two days after each main message
    assert {d for s, d in days if s == "last-call"} == {4}  # a day after each reminder
    # ... to exactly the customers their conditions leave, within each customer's window
    opted_out, clicked, bought = copy.acted("opted_out"), copy.acted("clicked"), copy.acted("bought")
    assert set(reminder) == owed(main, timedelta(days=2), clicked, opted_out) < {k for k, r in main.items()
                                                                                  if r["status"] == "sent"}  # fmt: skip
    assert set(last) == owed(reminder, timedelta(days=1), bought, opted_out) < {k for k, r in reminder.items()
                                                                                if r["status"] == "sent"}  # fmt: skip
    for step in (main, reminder, last):
        for key, row in step.items():
            if row["status"] == "sent":
                local = moment(row["sent_at"]).astimezone(ZoneInfo(row["zone"]))
                assert 9 <= local.hour < 20, (key, row)
    for previous, later, after in ((main, reminder, timedelta(days=2)), (reminder, last, timedelta(days=1))):
        for key, row in later.items():
            if row["sent_at"]:
                assert moment(row["sent_at"]) >= moment(previous[key]["sent_at"]) + after
    # ... with their own words per variant, and each persona's message is its customers'
    for entry in report["messages"]:
        assert entry["text"].startswith(TEXTS[(entry["step"], entry["variant"])]), entry
    assert {(m["persona"], m["step"]) for m in report["messages"]} == {
        (p, s) for p in ("german", "everyone") for s in ("main", "reminder", "last-call")
    }
    for step_id, rows in (("main", main), ("reminder", reminder), ("last-call", last)):
        for key, row in rows.items():
            assert row["persona"] == row["customer_persona"]
            if row["status"] == "sent":
                assert row["text"].startswith(TEXTS[(step_id, row["variant"])]), (key, row)
        got = {(m["persona"], m["variant"]): m["sent"] for m in report["messages"] if m["step"] == step_id}
        sent = [(r["persona"], r["variant"]) for r in rows.values() if r["status"] == "sent"]
        assert got == {group: sent.count(group) for group in set(sent)}
    # the holdout gets nothing, ever
    held = {k for k, r in main.items() if r["status"] == "holdout"}
    assert held and not held & (set(reminder) | set(last))

    # the funnel printed is the funnel the copy holds, and the customers did each thing
    recount = copy.recount()
    for entry in report["funnel"]:
        mine = recount[(entry["step"], entry["variant"])]
        blocked = sum(n for why, n in entry["skipped_by"].items() if why in ("blocked", "deactivated"))
        theirs = {k: entry[k] for k in ("sent", "clicked", "replied", "converted", "opted_out", "holdout")}
        assert theirs | {"blocked": blocked} == mine, entry["step"]
    assert len(report["funnel"]) == len(recount) == 6
    totals = {k: sum(c[k] for c in recount.values()) for k in ("clicked", "converted", "blocked", "opted_out")}
    assert all(totals.values()), totals
    assert report["customers"]["did"].get("buy", 0) == sum(len(v) for k, v in bought.items() if k in main)
    # the sandboxes got every message sent, each in its customer's chat
    messages = sum(c["sent"] for c in recount.values())
    assert {ch: s["in_chat"] for ch, s in report["sandboxes"].items()} == {
        ch: s["sent"] for ch, s in report["sandboxes"].items()
    }
    assert sum(s["sent"] for s in report["sandboxes"].values()) == messages and set(report["sandboxes"]) == {
        "telegram",
        "slack",
    }

    # for people: tables, each persona's words, and the copy deleted afterwards
    stdout, _ = rehearse(cli, "--days", "6", "--segments", "segments.yaml")
    assert "Rehearsal of rehearsal-journey over 6 simulated days from Mon 2027-04-05 06:30 UTC" in stdout
    for text in ("Messages sent per day", "Funnel per step and variant", "What each persona got"):
        assert text in stdout
    assert "german · reminder · variant bold · sent to " in stdout and "  BOLD reminder, Person" in stdout
    assert "rehearsal-journey: done at Thu 2027-04-08 13:00 UTC" in stdout and "the scratch copy is deleted" in stdout
    assert list((shop / "tmp").iterdir()) == []
    assert fingerprint(backend) == before and offline.tried == []

    # a campaign nobody would get says why, in one line, and leaves nothing behind
    nobody = CAMPAIGN.replace("  holdout: 0.1\n", "  exclude_personas: [german, everyone]\n")
    (shop / "campaign.yaml").write_text(nobody, encoding="utf-8")
    code, output = cli("campaign", "rehearse", "campaign.yaml", "--start", MONDAY.isoformat(), "--segments",
                       "segments.yaml")  # fmt: skip
    assert code == 1 and " ".join(output.split()).startswith(
        f"error: rehearsal-journey: nobody would get it at 2027-04-05 06:30 UTC: of {PEOPLE} customers in its"
        f" personas and segments, {PEOPLE} are excluded,"
    )
    assert list((shop / "tmp").iterdir()) == []

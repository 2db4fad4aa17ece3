"""The marketer's view of unhappy customers: `campaign launch` counts the suppressed, `report campaign` shows them by
reason, `customer complaints` lists the open ones and `customer resolve` ends the suppression (SQLite file)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import complaints, db
from storage.models import ChannelIdentity, Customer, Event
from tests.fakes.cli import invoke

CAMPAIGN = """\
id: spring
name: Spring
channels: [telegram]
message:
  brief: The new spring colours are in.
  template: 'Hi {{ customer.first_name }}: the new spring colours are in. {{ unsubscribe }}'
"""


async def _seed(url: str) -> None:
    await db.upgrade(url)
    async with db.database(url):
        now = datetime.now(UTC)
        for key, name in (("C-MIA", "Mia [bold]Berg"), ("C-BOB", "Bob")):
            customer = await Customer.create(external_id=key, name=name, opted_in_at=now - timedelta(days=9))
            await ChannelIdentity.create(customer=customer, channel="telegram", address=f"70{len(key)}{name[0]}")
        mia = await Customer.get(external_id="C-MIA")
        await complaints.open_complaint(mia.id, at=now - timedelta(hours=2), source="message", text="[red]Broken[/]!")


async def _resolutions(url: str, external_id: str) -> int:
    async with db.database(url):
        return await Event.filter(type="complaint_resolved", customer__external_id=external_id).count()


def test_suppressed_rows_in_launch_and_report_and_the_complaint_resolved(isolated: Path) -> None:
    (isolated / "data").mkdir()
    asyncio.run(_seed(f"sqlite://{isolated / 'data' / 'chatcast.sqlite3'}"))
    (isolated / "segments.yaml").write_text("personas:\n  - {id: everyone, description: d, tone: t}\n")
    (isolated / "spring.yaml").write_text(CAMPAIGN)

    code, output = invoke("customer", "complaints")
    assert code == 0 and "C-MIA" in output and "[red]Broken[/]!" in output and "Mia [bold]Berg" in output

    code, output = invoke("campaign", "launch", "spring.yaml", "--dry-run")
    assert code == 0, output
    assert "spring: 1 planned, 0 held out, 0 without consent, 0 unreachable, 1 suppressed (unhappy)" in output
    code, output = invoke("report", "campaign", "spring")
    assert code == 0 and "skipped: suppressed: open complaint" in output, output
    code, output = invoke("report", "campaign", "spring", "--json")
    assert json.loads(output)["funnel"]["skipped_by"] == {"suppressed: open complaint": 1}

    code, output = invoke("customer", "resolve", "C-MIA")
    assert code == 0 and "Customer C-MIA: 1 open complaint resolved" in output
    assert invoke("customer", "complaints") == (0, "No open complaints.\n")
    # planned again before it is sent: her row is back
    code, output = invoke("campaign", "launch", "spring.yaml", "--dry-run")
    assert code == 0 and "1 planned" in output and "0 suppressed" in output

    # nothing open: an explicit decision all the same, recorded, so Bob's earlier words stop counting
    code, output = invoke("customer", "resolve", "C-BOB")
    assert code == 0 and "Customer C-BOB: no complaint was open" in output
    assert asyncio.run(_resolutions(f"sqlite://{isolated / 'data' / 'chatcast.sqlite3'}", "C-BOB")) == 1

    code, output = invoke("customer", "resolve", "C-NOBODY")
    assert code == 1 and output == "error: no customer 'C-NOBODY'\n"

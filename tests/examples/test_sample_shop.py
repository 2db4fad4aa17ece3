"""The sample shop is what its generator writes: deterministic, and varied enough for personas."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
from collections import Counter
from pathlib import Path

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def load_generator():
    spec = importlib.util.spec_from_file_location("shop_generate", SHOP / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_committed_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    counts = load_generator().write_shop(tmp_path, 5000, 300)
    assert counts["customers"] == 5000 and counts["products"] == 300
    for name in ("products.csv", "customers.csv", "orders.csv"):
        assert digest(tmp_path / name) == digest(SHOP / name), f"{name} differs: re-run examples/shop/generate.py"


def test_histories_are_varied() -> None:
    with open(SHOP / "orders.csv", encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    per_customer = Counter(r["customer_id"] for r in lines if r["line"] == "1")
    assert 18_000 <= len({r["order_id"] for r in lines}) <= 26_000
    assert max(per_customer.values()) >= 10 and min(per_customer.values()) == 1
    assert sum(1 for r in lines if r["discount_code"]) > 2000
    with open(SHOP / "customers.csv", encoding="utf-8") as f:
        customers = list(csv.DictReader(f))
    assert len({c["language"] for c in customers}) >= 6 and len({c["timezone"] for c in customers}) >= 10

"""Bad input, generated: campaign YAML, segment YAML and import files, each mutated from the sample shop's own or
written from nothing by hypothesis. Every input ends in success or a clear error (file, line, field or row),
never another exception, and an import writes exactly its good rows (``--strict``: nothing at all).

Short by default; ``CHATCAST_RELIABILITY=long`` tries many more cases. Each test counts the cases it ran
in ``CASES`` (printed with ``-s``).
"""

from __future__ import annotations

import csv
import io
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from campaigns.file.loader import CampaignError, parse_campaign
from chatcast.channels import identity_columns
from segments.definitions import DefinitionsError, parse
from storage import importers
from storage.importers import ImportAborted
from storage.models import Customer
from tests.fakes.environment import LONG

# customers files link chat identities through the registry's columns, as the CLI imports them
import_file = partial(importers.import_file, identities=identity_columns())

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
EXAMPLES = 2000 if LONG else 80
CASES: dict[str, int] = {}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                                 HealthCheck.too_slow])  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True), st.text(max_size=40),
    st.sampled_from(["", "{{ customer.name }}", "{% for x in range(9**9) %}", "'; DROP TABLE customer; --", "0%",
                     "20%", "10 EUR", "2027-02-30", "*/5 * * * *", "-1", "∞", "\x00", "a" * 300]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _yaml(data: Any) -> str:
    out = io.StringIO()
    YAML(typ="safe").dump(data, out)
    return out.getvalue()


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found += _paths(v, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, path: Path) -> str:
    """The example file with a few of its nodes replaced, removed or joined by an unknown key."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        where = draw(st.sampled_from(paths))
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "remove", "extra"]))
        if action == "replace":
            parent[where[-1]] = draw(values)
        elif action == "remove":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
    return _yaml(data)


def _texts(path: Path) -> st.SearchStrategy[str]:
    raw = path.read_text(encoding="utf-8")
    cut = st.integers(0, len(raw)).map(lambda n: raw[:n])  # a file cut anywhere
    return st.one_of(mutated(path), st.text(max_size=300), cut)


@FUZZ
@given(text=_texts(SHOP / "campaigns" / "spring-sale.yaml"))
def test_campaign_yaml_ends_in_a_campaign_or_located_errors(text: str) -> None:
    CASES["campaign"] = CASES.get("campaign", 0) + 1
    try:
        parse_campaign(text, "spring-sale.yaml")
    except CampaignError as exc:
        assert exc.problems
        assert all(p.file == "spring-sale.yaml" and p.line >= 1 and p.path and p.message for p in exc.problems)


@FUZZ
@given(text=_texts(SHOP / "segments.yaml"))
def test_segment_yaml_ends_in_definitions_or_located_errors(text: str) -> None:
    CASES["segments"] = CASES.get("segments", 0) + 1
    try:
        parse(text, "segments.yaml")
    except DefinitionsError as exc:
        assert exc.problems and all(p.file == "segments.yaml" and p.line >= 1 and p.path for p in exc.problems)


HEADER = ["external_id", "name", "email", "language", "timezone", "country", "tags", "opted_in_at", "telegram_chat_id"]
cells = st.one_of(
    st.text(max_size=20), st.sampled_from(["", "en", "Europe/Paris", "Mars/Olympus", "2026-01-01T10:00:00+00:00",
                                           "not a date", "-5", "12345678901234567890", "a,b", '"', "\x00", "x" * 300]),
)  # fmt: skip
rows = st.lists(
    st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)).filter(lambda r: any(c.strip() for c in r)),
    min_size=1,
    max_size=12,
)  # a blank line is no row: the importer skips it


@FUZZ
@given(table=rows, strict=st.booleans())
async def test_customer_files_import_their_good_rows_and_name_the_bad_ones(
    database: str, tmp_path_factory: pytest.TempPathFactory, table: list[list[str]], strict: bool
) -> None:
    CASES["import"] = CASES.get("import", 0) + 1
    path = tmp_path_factory.mktemp("fuzz") / "customers.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(table)
    await Customer.all().delete()
    try:
        report = await import_file("customers", path, strict=strict)
    except ImportAborted as exc:
        assert strict and exc.error.row >= 1 and exc.error.reason
        assert await Customer.all().count() == 0  # strict: the first bad row undoes everything
        return
    assert report.imported + report.bad == report.rows and all(e.row >= 1 and e.reason for e in report.errors)
    bad_rows = {e.row for e in report.errors}
    good_ids = {row[0].strip() for n, row in enumerate(table, start=1) if n not in bad_rows}
    stored = set(await Customer.all().values_list("external_id", flat=True))
    assert stored == good_ids  # exactly the good rows (a repeated id is one customer), none of the bad


def test_the_fuzz_ran() -> None:
    print(f"\nfuzz cases tried: {CASES}")

"""Any file, however broken, ends in an import report or one clear error: never a crash or a partial write."""

from __future__ import annotations

import asyncio
import shutil
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import connections

from storage import db
from storage.importers import ImportAborted, SourceError, import_file
from storage.models import Customer
from tests.fakes.environment import BACKENDS


@pytest.fixture(params=BACKENDS)
def fuzz_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per backend for the whole fuzz run, emptied before each example."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    return str(request.getfixturevalue("postgres_url"))


HEADERS = ["external_id", "name", "email", "language", "timezone", "tags", "opted_in_at", "attr_x", "bogus"]
cell = st.one_of(
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(["C1", "C2", "", " ", "en", "Europe/Paris", "a@b.co", "2026-01-01", "\x00", "é", '"']),
)
rows = st.lists(st.lists(cell, min_size=0, max_size=10), max_size=12)


def to_csv(header: list[str], body: list[list[str]]) -> str:
    def quote(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n\r') else value

    return "\n".join(",".join(quote(v) for v in line) for line in [header, *body]) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6, unique=True),
    body=rows,
    strict=st.booleans(),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_any_customer_file_ends_cleanly(
    fuzz_url: str, tmp_path: Path, header: list[str], body: list[list[str]], strict: bool, raw: bytes | None
) -> None:
    path = tmp_path / "fuzz.csv"
    if raw is None:
        path.write_text(to_csv(header, body), encoding="utf-8")
    else:
        path.write_bytes(raw)

    async def scenario() -> None:
        await db.connect(fuzz_url)
        await connections.get("default").execute_script('DELETE FROM "channel_identity"; DELETE FROM "customer";')
        try:
            try:
                report = await import_file("customers", path, strict=strict)
            except (SourceError, ImportAborted) as exc:
                assert str(exc)
                assert await Customer.all().count() == 0  # refused as a whole: nothing written
                return
            assert report.rows == report.imported + report.bad
            assert await Customer.all().count() <= report.imported
            for error in report.errors:
                assert error.row >= 1 and error.line >= 2 and error.reason
        finally:
            await db.close()

    asyncio.run(scenario())

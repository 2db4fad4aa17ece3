"""``chatcast demo`` and what comes after: the default database, the commands it prints, the data it never touches."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatcast.cli import app
from chatcast.cli.demo import SAMPLE_SHOP
from tests.fakes.cli import invoke

NEXT = "Explore it with the commands you will use on your own shop:"


def flat(text: str) -> str:
    """``text`` on one line: error messages wrap at the terminal's width."""
    return " ".join(text.split())


def next_commands(output: str) -> list[str]:
    """The command lines the demo prints last, without their comments."""
    return [line.split("  # ", 1)[0].strip() for line in output.split(NEXT, 1)[1].strip().splitlines()]


def customers(database: str = "data/chatcast.sqlite3") -> int:
    """How many customers ``db status`` counts in that file."""
    result = CliRunner().invoke(app, ["db", "status"], env={"CHATCAST_DATABASE_URL": f"sqlite://{database}"})
    return int(re.search(r"customer\s+│\s+([\d,]+)", result.output).group(1).replace(",", ""))  # type: ignore[union-attr]


@pytest.mark.slow
def test_after_the_demo_the_commands_it_prints_run_as_printed(isolated: Path) -> None:
    code, output = invoke("demo", "--no-send")
    assert code == 0, output
    assert "Creating data/chatcast.sqlite3 (the default database)" in output
    assert not (isolated / "data" / "demo.sqlite3").exists()
    hints = next_commands(output)
    assert len(hints) == 3 and all(h.startswith("chatcast ") for h in hints), hints  # nothing to set or type first
    assert "campaign status" not in output  # --no-send launched nothing, so it offers nothing to look at
    for hint in hints:
        code, said = invoke(*shlex.split(hint)[1:])
        assert code == 0 and not re.search(r"^(error|warning):", said, re.M), f"{hint}:\n{said}"
    # the personas (and the assistant's policies) are the sample shop's, found through the demo's database
    code, said = invoke("config", "show")
    for name in ("segments.yaml", "knowledge.yaml"):
        assert str(SAMPLE_SHOP / name) in said
    code, said = invoke("segments", "explain", "C000001", "--as-of", "2026-11-01")
    assert code == 0 and "persona by these rules now" in said
    # rows imported on top of the demo are yours: the next demo stops rather than overwrite them
    (isolated / "mine.csv").write_text("external_id,name\nX1,Ann\n")
    assert invoke("import", "customers", "mine.csv")[0] == 0
    code, said = invoke("demo", "--no-send")
    assert code == 1 and flat(said).startswith(
        "error: data/chatcast.sqlite3 holds the demo's shop and data added since (customer 5,000 -> 5,001),"
        " and the demo never overwrites your data: delete the file to start afresh, or pass --database FILE"
    )
    assert customers() == 5_001


@pytest.mark.slow
def test_the_demo_never_overwrites_a_shop_of_your_own(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated / "mine.csv").write_text("external_id,name\nX1,Ann\n")
    assert invoke("import", "customers", "mine.csv")[0] == 0
    refusal = (
        "error: data/chatcast.sqlite3 holds data of your own (rows: customer 1), and the demo never overwrites it:"
        " pass --database FILE to run the demo in another file (e.g. --database data/demo.sqlite3)"
    )
    code, output = invoke("demo", "--no-send")
    assert code == 1 and flat(output) == refusal
    code, output = invoke("demo", "--no-send", "--database", "data/chatcast.sqlite3")  # named outright: the same
    assert code == 1 and flat(output) == refusal
    assert customers() == 1

    code, output = invoke("demo", "--no-send", "--database", "data/demo.sqlite3")
    assert code == 0, output
    hints = next_commands(output)
    prefix = "CHATCAST_DATABASE_URL=sqlite://data/demo.sqlite3 chatcast "
    assert hints and all(h.startswith(prefix) for h in hints), hints  # the way to the other file, in each
    variable, _, command = hints[-1].partition(" ")
    monkeypatch.setenv(*variable.split("=", 1))
    code, said = invoke(*shlex.split(command)[1:])
    assert code == 0 and "persona by these rules now" in said
    assert customers() == 1 and customers("data/demo.sqlite3") == 5_000


@pytest.mark.slow
def test_the_demo_leaves_postgres_and_files_it_cannot_read_alone(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATCAST_DATABASE_URL", "postgres://shop@127.0.0.1:1/shop")
    code, output = invoke("demo")
    assert code == 1 and flat(output) == (
        "error: CHATCAST_DATABASE_URL is not a SQLite file, and the demo makes a SQLite file of its own:"
        " pass --database FILE (e.g. --database data/demo.sqlite3) and explore it with the commands it prints"
    )
    notes = isolated / "notes.txt"
    notes.write_text("my notes\n")
    code, output = invoke("demo", "--database", "notes.txt")
    assert code == 1 and "notes.txt is not a SQLite database Chatcast can read; the demo leaves it alone" in flat(
        output
    )
    assert notes.read_text() == "my notes\n"

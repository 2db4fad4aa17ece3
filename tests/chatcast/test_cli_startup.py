"""``chatcast --help`` and ``--version`` start light: no channel SDK, no ORM, no OpenAI client, no engine.

Each command imports its heavy parts when it runs; these tests run the real entry point in a fresh interpreter
with ``-X importtime`` and read which modules it imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatcast import __version__

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"aiogram", "slack_bolt", "slack_sdk", "openai", "tortoise"}
# our packages that pull those in (and the engine's own weight): the help screens need none of them
ENGINE = {"bots", "campaigns", "storage", "assistant", "segments"}
# modules of ours that import nothing and hold a class or a few names every command may need (storage's
# __init__ is its docstring): the root error the handler catches, the customer columns the import help lists
LIGHT = {"storage", "storage.errors", "storage.customer_columns"}


def imported(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -m chatcast ARGS``; its result and the top-level packages it imported."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "chatcast", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "COLUMNS": "120"},
        timeout=60,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return done, {name.split(".")[0] for name in modules - LIGHT}


@pytest.mark.parametrize(
    "args",
    [["--help"], ["campaign", "--help"], ["campaign", "launch", "--help"], ["import", "orders", "--help"]],
    ids=" ".join,
)
def test_help_imports_no_sdk_orm_or_engine(args: list[str]) -> None:
    done, names = imported(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage: chatcast" in done.stdout
    assert "chatcast" in names and "typer" in names  # the parse saw the imports
    assert not names & (HEAVY | ENGINE), f"chatcast {' '.join(args)} imported {sorted(names & (HEAVY | ENGINE))}"


def test_version_imports_no_sdk_orm_or_engine() -> None:
    done, names = imported("--version")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"chatcast {__version__}"
    assert not names & (HEAVY | ENGINE), f"chatcast --version imported {sorted(names & (HEAVY | ENGINE))}"


def test_the_import_commands_batch_default_is_the_importers() -> None:
    from chatcast.cli.imports import DEFAULT_BATCH
    from storage.importers import DEFAULT_BATCH as IMPORTERS_DEFAULT

    assert DEFAULT_BATCH == IMPORTERS_DEFAULT

"""The reliability suite: a short form in every run; ``CHATCAST_RELIABILITY=long`` for the long one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

LONG = os.environ.get("CHATCAST_RELIABILITY") == "long"


@pytest.fixture
def isolated_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty folder with no CHATCAST_ variables, its data directory made: for CLI runs."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("CHATCAST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHATCAST_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    return tmp_path

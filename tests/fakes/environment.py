"""What a test run finds around it: the repository's sample shop, the third-party reference data in
``../shared/reference``, the databases and Redis to use, and how long the reliability suite runs.

``CHATCAST_REFERENCE_DIR`` moves the reference data; ``CHATCAST_TEST_DATABASES`` (default ``sqlite,postgres``)
picks the backends; PostgreSQL comes from ``CHATCAST_TEST_POSTGRES_URL`` and Redis from ``CHATCAST_TEST_REDIS_URL``;
``CHATCAST_RELIABILITY=long`` runs the reliability suite's long form.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "shop"
REFERENCE = Path(os.environ.get("CHATCAST_REFERENCE_DIR", ROOT.parent / "shared" / "reference"))
PG_URL = os.environ.get("CHATCAST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("CHATCAST_TEST_DATABASES", "sqlite,postgres").split(",") if b]
REDIS_URL = os.environ.get("CHATCAST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
LONG = os.environ.get("CHATCAST_RELIABILITY") == "long"


def reference_file(*parts: str) -> Path:
    """A file under ``../shared/reference``; the test skips, saying why, where the folder is absent."""
    path = REFERENCE.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"needs {path} (third-party reference data in ../shared, present in CI, not in a clone)")
    return path


def reference_or_none(*parts: str) -> Path | None:
    """A file under ``../shared/reference``; None in a clone without it (a sandbox then checks less)."""
    path = REFERENCE.joinpath(*parts)
    return path if path.is_file() else None


def redis_up() -> bool:
    """Whether the tests' Redis (``CHATCAST_TEST_REDIS_URL``) accepts connections."""
    host, port = REDIS_URL.removeprefix("redis://").split("/")[0].split(":")
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0

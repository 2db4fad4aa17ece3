"""The import rules of docs/developers/architecture.md, checked on the source tree."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("chatcast", "bots", "campaigns", "segments", "assistant", "storage")
RULES = {
    "tortoise": ("storage", "segments"),
    "aiogram": ("bots",),
    "slack_bolt": ("bots",),
    "slack_sdk": ("bots",),
    "apscheduler": ("campaigns/scheduler.py",),
    "openai": ("chatcast", "campaigns/content/writer", "assistant"),
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


SOURCES = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_sdks_and_orm_are_imported_only_in_their_homes(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    for module in imports(path) & RULES.keys():
        assert relative.startswith(RULES[module]), f"{relative} imports {module}; its home is {RULES[module]}"


def test_storage_imports_no_other_package_of_ours() -> None:
    for path in (ROOT / "storage").rglob("*.py"):
        ours = imports(path) & (set(PACKAGES) - {"storage"})
        assert not ours, f"{path.relative_to(ROOT)} imports {ours}"


BUILTIN_ERRORS = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
# the sandboxes play Telegram's and Slack's servers: their errors are the platforms' answers, never ours
NOT_OURS = ("bots/sandbox/", "storage/errors.py")


def _base_names(node: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, ast.Name | ast.Attribute)}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_error_of_ours_descends_from_chatcast_error(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith(NOT_OURS):
        return
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and _base_names(node) & BUILTIN_ERRORS:
            assert "ChatcastError" in _base_names(node), f"{relative}: {node.name} does not descend from ChatcastError"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_loggers_are_named_by_their_module(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        func, owner = node.func.attr, node.func.value
        if not isinstance(owner, ast.Name) or owner.id != "logging":
            continue
        if func == "getLogger" and node.args:  # none: the root logger, which only chatcast/logs.py configures
            named = isinstance(node.args[0], ast.Name) and node.args[0].id == "__name__"
            assert named, f"{relative}:{node.lineno}: a logger named other than by its module"
        assert func not in ("debug", "info", "warning", "error", "exception", "critical", "log"), (
            f"{relative}:{node.lineno}: logs to the root logger; use logging.getLogger(__name__)"
        )

"""The import rules of docs/developers/architecture.md, checked on the source tree."""

from __future__ import annotations

import ast
import builtins
import io
import re
import tokenize
from pathlib import Path

import pytest

from bots.registry import CHANNELS, ChannelSettings

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


STAGES = ("file", "audience", "timing", "content", "delivery", "results", "notices")
PIPELINE = ("launch", "jobs", "scheduler", "readiness")


def _campaign_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("campaigns.") and name.count(".") >= 1}
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_a_campaign_stage_imports_only_the_stages_before_it(stage: str) -> None:
    """The walk from a campaign's YAML to a delivery row goes forward: a stage may use the stages before it (and
    the ports), never a later one nor the pipeline (launch, jobs, the scheduler) that calls the stages in order."""
    later = set(STAGES[STAGES.index(stage) + 1 :]) | set(PIPELINE)
    for path in (ROOT / "campaigns" / stage).rglob("*.py"):
        reached = _campaign_imports(path) & later
        assert not reached, f"{path.relative_to(ROOT)} (stage {stage}) imports campaigns.{sorted(reached)}"


# A channel is named only in its folder and the registry: everywhere else it is data from bots.registry.
CHANNEL_WORD = re.compile(r"telegram|slack", re.IGNORECASE)
CHANNEL_HOMES = (*(f"bots/{spec.name}/" for spec in CHANNELS), "bots/registry.py")
# Migrations are history: they stay as they ran (one describes the installation table, Slack's OAuth).
HISTORY = ("storage/migrations/",)
# identifiers and string literals (with the pieces of f-strings that Python 3.12 tokenizes apart)
WORDS = {tokenize.NAME, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}


def _documentation(tree: ast.Module) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the string statements are (docstrings, and strings standing alone as documentation)."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            spans.append(((node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0)))
    return spans


def channel_names(path: Path) -> list[str]:
    """Identifiers and string literals of ``path`` that name a channel, outside comments and documentation."""
    source = path.read_text(encoding="utf-8")
    docs = _documentation(ast.parse(source))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in WORDS or not CHANNEL_WORD.search(token.string):
            continue
        if any(start <= token.start < end for start, end in docs):
            continue
        found.append(f"line {token.start[0]}: {token.string[:60]}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_a_channels_folder_and_the_registry_name_it(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith(CHANNEL_HOMES + HISTORY):
        return
    assert not channel_names(path), f"{relative} names a channel (use bots.registry): {channel_names(path)}"


def test_the_check_sees_names_and_strings_but_not_documentation(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Telegram, in a docstring."""\n'
        "# slack, in a comment\n"
        "def f(telegram_token: str) -> str:\n"
        '    """Slack here is documentation."""\n'
        '    return f"{telegram_token} via Slack"\n'
    )
    assert {found.split(":")[0] for found in channel_names(sample)} == {"line 3", "line 5"}


def test_the_registry_mixes_in_every_channels_settings() -> None:
    assert set(ChannelSettings.__bases__) == {spec.settings for spec in CHANNELS}
    assert len({spec.name for spec in CHANNELS}) == len(CHANNELS)
    for spec in CHANNELS:
        assert all(name.startswith(f"{spec.name}_") for name in spec.settings.model_fields), spec.name
        assert all(route.startswith(f"/{spec.name}/") for route in spec.routes), spec.name


BUILTIN_ERRORS = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
# the sandboxes play Telegram's and Slack's servers: their errors are the platforms' answers, never ours
NOT_OURS = ("/sandbox/", "storage/errors.py")


def _base_names(node: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, ast.Name | ast.Attribute)}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_error_of_ours_descends_from_chatcast_error(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    if any(part in relative for part in NOT_OURS):
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

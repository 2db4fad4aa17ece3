"""The import rules of docs/developers/architecture.md, checked on the source tree."""

from __future__ import annotations

import ast
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

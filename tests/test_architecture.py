"""The import rules of docs/developers/architecture.md, checked on the source tree."""

from __future__ import annotations

import ast
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

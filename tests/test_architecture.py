"""The import rules of docs/developers/architecture.md, checked on the source tree; and the tests' own: no test module
imports another.

Where today's code breaks a rule, the break is listed here with its reason, and the list may only shrink: a new
break fails its rule's test, and so does a listed one that is gone (take it off the list), so the lists stay true.
"""

from __future__ import annotations

import ast
import builtins
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.registry import CHANNELS, ChannelSettings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("chatcast", "bots", "campaigns", "segments", "assistant", "storage")

# the SDKs, the ORM and the scheduler, each imported only in its home (a folder ends in "/", a module is a file)
HOMES = {
    "tortoise": ("storage/", "segments/"),  # segments compiles rules into tortoise query expressions
    "aiogram": ("bots/",),
    "slack_bolt": ("bots/",),
    "slack_sdk": ("bots/",),
    "apscheduler": ("campaigns/scheduler.py",),
    "openai": ("chatcast/", "campaigns/content/writer_openai.py", "assistant/"),
}

# what each floor may import of ours besides itself (the longest matching folder decides; chatcast: anything)
MAY_IMPORT = {
    "storage/": (),
    "segments/": ("storage",),
    "campaigns/": ("segments", "storage"),
    "assistant/": ("storage", "segments", "campaigns.content"),
    "bots/": ("campaigns.ports",),
    "bots/inbound/": ("campaigns.ports", "campaigns.notices", "storage"),
    "chatcast/": PACKAGES,
}

# today's breaks of MAY_IMPORT: (module, what it imports) -> why it is so today
LAYER_BREAKS = {
    ("assistant/feedback.py", "campaigns.ports"): "asks for feedback through the channels' contract (Channel, "
    "OutboundMessage), which lives in campaigns/ports.py though the assistant is no campaign",
    ("assistant/service.py", "campaigns.ports"): "answers InboundEvents and replies, hands off and alerts staff "
    "through the channels' contract in campaigns/ports.py",
    ("campaigns/content/claims.py", "assistant.descriptions.facts"): "the claims checker, shared by campaign copy "
    "and product descriptions, reads ProductFacts, which live with the descriptions",
    ("campaigns/notices/text.py", "bots.inbound.optout"): "the notices' STOP NOTICES / START NOTICES switch reads "
    "words as the opt-out does, with its normalise(), which lives with the inbound handlers",
}

# today's uses of the ORM's models outside storage/ and segments/: module -> why it is so today
ORM_USERS = {
    "assistant/complaints.py": "annotates its parameter with a Feedback row",
    "assistant/descriptions/service.py": "builds facts from Product rows and exports ProductCopy rows",
    "assistant/feedback.py": "returns the Feedback row it captured",
    "assistant/service.py": "keeps each chat's state on its Conversation row",
    "bots/inbound/acts.py": "links and creates the Customer and ChannelIdentity rows of an opt-in",
    "campaigns/audience/planner.py": "gets or creates the Campaign row it registers and plans",
    "campaigns/jobs.py": "filters the running marketing Campaign rows",
    "campaigns/results/report.py": "builds a report from a Campaign row",
    "campaigns/timing/recurring.py": "loads the Campaign row of a recurring schedule",
    "chatcast/cli/customer.py": "hands the customer commands their Customer row",
    "chatcast/cli/products.py": "shows and edits ProductCopy drafts",
    "chatcast/demo_campaign.py": "finds the demo's reachable ChannelIdentity rows on each channel",
    "chatcast/playground.py": "lists each channel's ChannelIdentity rows",
    "chatcast/shoppers.py": "queries the demo's Customer and ChannelIdentity rows",
}


def sources(*folders: str) -> Iterator[Path]:
    """The Python files under ``folders`` of the repository (migrations are generated: not ours to judge)."""
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def imported(path: Path) -> Iterator[str]:
    """Every dotted name ``path`` imports (``from a.b import c`` gives ``a.b.c``), relative imports resolved."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join((*package[: len(package) - node.level + 1], node.module or "")) if node.level else ""
            module = (base if node.level else node.module or "").strip(".")
            yield from (f"{module}.{alias.name}" for alias in node.names)


def under(name: str, prefix: str) -> bool:
    """Whether the dotted ``name`` is ``prefix`` or inside it."""
    return name == prefix or name.startswith(prefix + ".")


def test_sdks_the_orm_and_the_scheduler_are_imported_only_in_their_homes() -> None:
    found = []
    for path in sources(*PACKAGES):
        relative = path.relative_to(ROOT).as_posix()
        for name in imported(path):
            homes = HOMES.get(name.split(".")[0])
            if homes and not any(relative == h or (h.endswith("/") and relative.startswith(h)) for h in homes):
                found.append(f"{relative} imports {name}; its home is {', '.join(homes)}")
    assert not found, found


def test_the_orm_models_are_used_only_in_storage_and_segments() -> None:
    users = {
        path.relative_to(ROOT).as_posix()
        for path in sources("chatcast", "bots", "campaigns", "assistant")
        if any(under(name, "storage.models") for name in imported(path))
    }
    new, mended = sorted(users - ORM_USERS.keys()), sorted(ORM_USERS.keys() - users)
    assert not new, f"these use storage.models: give storage/ a query for them instead: {new}"
    assert not mended, f"these no longer use storage.models: take them off ORM_USERS: {mended}"


def test_no_package_reaches_up() -> None:
    found = set()
    for path in sources(*PACKAGES):
        relative = path.relative_to(ROOT).as_posix()
        floor = max((f for f in MAY_IMPORT if relative.startswith(f)), key=len)
        allowed = (floor.split("/")[0], *MAY_IMPORT[floor])
        for name in imported(path):
            if name.split(".")[0] in PACKAGES and not any(under(name, a) for a in allowed):
                found.add((relative, next((m for r, m in LAYER_BREAKS if r == relative and under(name, m)), name)))
    new, mended = sorted(found - LAYER_BREAKS.keys()), sorted(LAYER_BREAKS.keys() - found)
    assert not new, f"imports that reach up (see MAY_IMPORT): {new}"
    assert not mended, f"these breaks are mended: take them off LAYER_BREAKS: {mended}"


def test_no_test_module_imports_another_what_tests_share_lives_in_tests_fakes() -> None:
    found = [
        f"{path.relative_to(ROOT).as_posix()} imports {name}"
        for path in sources("tests")
        for name in imported(path)
        if under(name, "tests") and not under(name, "tests.fakes")
    ]
    assert not found, f"move what is shared into tests/fakes/ (fixtures into the conftest of the folder): {found}"


SOURCES = list(sources(*PACKAGES))


STAGES = ("file", "audience", "timing", "content", "delivery", "results", "notices")
PIPELINE = ("launch", "jobs", "scheduler")


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
CHANNEL_WORD = re.compile("|".join(spec.name for spec in CHANNELS), re.IGNORECASE)
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

"""The README and the getting-started guide walked as a newcomer walks them, command by command.

The README's quick start is exactly two commands: the demo, and the whole suite (which ``.ci/run`` runs verbatim).
``docs/getting-started.md`` starts and ends with the same two and walks the rest: the commands come from its own
```bash blocks, so what it shows is what runs, and each must exit 0 and print what the page says it prints, from a
clean folder that has only the clone's ``examples/`` (no ``.env``, no ``CHATCAST_`` variables, no reference data).
The sandboxes' blocks on the channel pages start as those pages show them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bots.telegram.sandbox.server import TelegramSandbox
from chatcast.cli import app
from tests.fakes.environment import reference_or_none
from tests.fakes.sandboxes import TELEGRAM_SPEC, served_in_thread

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
GUIDE = DOCS / "getting-started.md"
DEMO = "python3 -m pip install -e . && chatcast demo"
SUITE = "python3 -m pip install -e '.[test]' && python3 -m pytest"
NEXT = "Explore it with the commands you will use on your own shop:"

# what the pages say each command prints (a command they show must exit 0 and print no error or warning; those
# matched here must also print these)
PRINTS: dict[str, list[str]] = {
    r"^chatcast demo$": [
        r"Creating data/chatcast\.sqlite3 \(the default database\)",
        r"customers\s+│\s+5,000",
        r"Personas and segments \(as of the shop's last order, 2026-11-01\)",
        r"Funnel of spring-sale",
        r"A customer chats with the shop assistant \(offline\) on Telegram",
        re.escape(NEXT),
    ],
    r"^chatcast campaign status spring-sale$": [
        r"spring-sale:\s+running",
        r"main\s+│\s+sent\s+│\s+\d+",
        r"reminder \(2d after main, when not_clicked\)",
    ],
    r"^chatcast report campaign spring-sale$": [r"\(spring-sale\): running", r"clicked\s+│\s+\d+"],
    r"^chatcast campaign validate \S+/spring-sale\.yaml$": [
        r"✓ examples/shop/campaigns/spring-sale\.yaml: spring-sale"
    ],
    r"^chatcast campaign preview \S+/vip-early-access\.yaml": [
        r"main · vip · variant a · (telegram|slack) · C\d+ · template",
        "✓ length",
    ],
    r"^chatcast segments show --as-of": [r"persona\s+│\s+vip\s+│\s+\d", r"segment\s+│\s+runners_90d"],
    r"^chatcast segments explain C000001": [r"persona by these rules now: \w+ \(stored at the last refresh: \w+\)"],
    r"^chatcast campaign test-send \S+/vip-early-access\.yaml": [r"sent a test of vip-early-access \(step main,"],
    r"^chatcast campaign test-send \S+/spring-sale\.yaml --customer": [
        r"sent a test of spring-sale \(step reminder, variant \w+\) as C000276 gets it on \w+, to telegram:123456789"
    ],
    r"^chatcast campaign launch \S+ --dry-run$": [r"vip-early-access: \d+ planned", r"dry run: nothing sent"],
    r"^chatcast campaign launch \S+/vip-early-access\.yaml$": [r"messages wait for their time"],
    r"^chatcast campaign status vip-early-access$": [r"vip-early-access:\s+running", r"main\s+│\s+queued"],
    r"^chatcast campaign rehearse \S+/spring-sale\.yaml --days 7$": [
        r"Rehearsal of spring-sale over 7 simulated days from",
        r"reminder",
        r"sandboxes: ([\d,]+) of the \1 messages sent are in their chats",
        r"the scratch copy is deleted",
    ],
}


def section(page: Path, heading: str) -> str:
    """The page's text under ``heading`` (a ``##`` or ``###`` title), up to the next title of that level."""
    text = page.read_text(encoding="utf-8")
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n")
    end = text.find(f"\n{level} ", start + 1)
    return text[start : end if end != -1 else None]


def lines(text: str) -> list[str]:
    """The command lines of ``text``'s ```bash blocks, as written (comments and blank lines dropped)."""
    found = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if shlex.split(line, comments=True):
                found.append(line.split("  #", 1)[0].strip())
    return found


def commands(text: str) -> list[list[str]]:
    """The commands of ``text``'s ```bash blocks, as words: comments dropped, ``&&`` chains split."""
    found: list[list[str]] = []
    for line in lines(text):
        words = shlex.split(line, comments=True)
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            found.append(words[:cut])
            words = words[cut + 1 :]
    return found


def invoke(words: list[str]) -> str:
    """Run one shown command in-process (``chatcast ...``); its output, after checking it exits 0 cleanly."""
    assert words[0] == "chatcast", f"{shlex.join(words)}: the pages' commands start with chatcast"
    result = CliRunner().invoke(app, words[1:])
    shown = shlex.join(words)
    assert result.exit_code == 0, f"{shown} exited {result.exit_code}:\n{result.output}"
    assert not re.search(r"^(error|warning):", result.output, re.M), f"{shown}:\n{result.output}"
    for pattern, expected in PRINTS.items():
        if re.search(pattern, shown):
            for text in expected:
                assert re.search(text, result.output), f"{shown} did not print {text!r}:\n{result.output}"
    return result.output


def walk(words: list[str], monkeypatch: pytest.MonkeyPatch) -> str | None:
    """One command as the page shows it: ``export`` sets its variables; the install and the suite itself are
    checked for shape, not run."""
    if words[0] == "export":
        for assignment in words[1:]:
            monkeypatch.setenv(*assignment.split("=", 1))
        return None
    if words[:4] == ["python3", "-m", "pip", "install"]:
        assert words[4:] in (["-e", "."], ["-e", ".[test]"]), words
        return None
    if words[:3] == ["python3", "-m", "pytest"]:
        assert words[3:] == [], words  # the whole suite: this test is part of it
        return None
    return invoke(words)


@pytest.fixture
def clone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A folder like a fresh clone's root, as far as the commands see: the examples, no settings, no ../shared."""
    for name in list(os.environ):
        if name.startswith("CHATCAST_") or name.startswith("OPENAI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def bot(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    """The Bot API sandbox the first campaign's text names, on loopback, configured as the page says."""
    sandbox = TelegramSandbox(spec=reference_or_none(*TELEGRAM_SPEC))
    with served_in_thread(sandbox):
        yield sandbox


def test_the_readme_quick_start_is_the_two_commands_the_guide_opens_and_closes_with_and_ci_runs() -> None:
    assert lines(section(README, "## Quick start")) == [DEMO, SUITE]
    guide = lines(GUIDE.read_text(encoding="utf-8"))
    assert guide[0] == DEMO and guide[-1] == SUITE, guide
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().splitlines()[-1] == SUITE


@pytest.mark.slow
def test_the_getting_started_guide_runs_as_written(
    clone: Path, bot: TelegramSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = commands(section(GUIDE, "## Install and run the demo")) + commands(
        section(GUIDE, "## Explore the demo's data")
    )
    campaign = commands(section(GUIDE, "## Your first campaign"))
    suite = commands(section(GUIDE, "## Run the tests"))
    assert quick + campaign + suite == commands(GUIDE.read_text(encoding="utf-8"))  # no command is left unwalked
    assert ["chatcast", "demo"] in quick and not any("=" in w[0] for w in quick), quick  # no variables to set
    printed: list[str] = []
    for words in quick:
        output = walk(words, monkeypatch)
        if words == ["chatcast", "demo"] and output is not None:
            assert (clone / "data" / "chatcast.sqlite3").is_file()
            hints = output.split(NEXT, 1)[1].strip().splitlines()
            printed = [h.split("  # ", 1)[0].strip().replace(f"{ROOT}/", "") for h in hints]
    # what the demo says to run next is what the guide shows, and so was just run
    shown = [shlex.join(w) for w in quick]
    assert printed and all(p in shown for p in printed), (printed, shown)

    text = section(GUIDE, "## Your first campaign")
    assert "CHATCAST_TELEGRAM_BOT_TOKEN=123456:SANDBOX" in text  # a bot for test-send and launch, as it says
    monkeypatch.setenv("CHATCAST_TELEGRAM_BOT_TOKEN", bot.token)
    monkeypatch.setenv("CHATCAST_TELEGRAM_API_URL", bot.base_url)
    assert len(campaign) >= 5, campaign
    for words in campaign:
        walk(words, monkeypatch)
    assert suite == [["python3", "-m", "pip", "install", "-e", ".[test]"], ["python3", "-m", "pytest"]]
    tests = [m.text or "" for chat in bot.transcripts for m in bot.sent(chat)]
    assert any(t.startswith("[TEST vip-early-access · main") for t in tests), tests
    assert any(t.startswith("[TEST spring-sale · reminder") for t in tests), tests
    assert bot.violations == []  # every request as the Bot API takes it (checked against its spec where present)


def _started(process: subprocess.Popen[str]) -> list[str]:
    """The sandbox's lines up to its address (it runs until stopped)."""
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if " sandbox at http" in line:
            return lines
    raise AssertionError(f"the sandbox stopped before it started: {lines}")


@pytest.mark.slow
def test_the_sandbox_commands_run_in_a_clone_without_the_reference_specs(clone: Path) -> None:
    shown = commands(section(DOCS / "channels" / "telegram.md", "## The Bot API sandbox")) + commands(
        section(DOCS / "channels" / "slack.md", "## The Slack Web API sandbox")
    )
    assert [w[:3] for w in shown] == [["chatcast", "sandbox", "telegram"], ["chatcast", "sandbox", "slack"]]
    assert not (clone.parent / "shared").exists()
    processes = []
    for words in shown:
        words = [("0" if i and words[i - 1] == "--port" else w) for i, w in enumerate(words)]  # any free port
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "chatcast", *words[1:]],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
            )
        )
    try:
        telegram, slack = (_started(p) for p in processes)
        # one line says what the sandbox checks without the spec, then it serves
        assert len(telegram) == 2 and telegram[0].startswith("No --spec: checking requests against aiogram's models")
        assert len(slack) == 2 and slack[0].startswith("No --spec: checking the methods the sandbox carries out")
        url, token = re.search(r"at (http://\S+) \(token (\S+)\)", telegram[1]).groups()  # type: ignore[union-attr]
        assert _call(f"{url}/bot{token}/getMe", {})["result"]["is_bot"] is True
        url, token = re.search(r"at (http://\S+) \(team \w+, bot token (\S+),", slack[1]).groups()  # type: ignore[union-attr]
        assert _call(f"{url}auth.test", {"token": token})["ok"] is True
        # and it checks what it says: a field no method has is refused
        answer = _call(f"{url}chat.postMessage", {"token": token, "channel": "C1", "text": "hi", "colour": "red"})
        assert answer["error"] == "invalid_arguments" and answer["errors"] == ["unknown parameter 'colour'"]
        # it plays users over HTTP where it says: one made there is a user the app can DM (no user_not_found)
        play = re.search(r"its users are played at (http://\S+/sandbox);", slack[1]).group(1)  # type: ignore[union-attr]
        assert _call(f"{play}/teams/T0SANDBOX/users", {"id": "U0MIA"}, json_body=True)["user"]["id"] == "U0MIA"
        assert _call(f"{url}conversations.open", {"token": token, "users": "U0MIA"})["ok"] is True
    finally:
        for process in processes:
            process.terminate()
            process.communicate(timeout=30)


def _call(url: str, form: dict[str, str], *, json_body: bool = False) -> dict[str, Any]:
    """POST a form (or a JSON object) to a loopback sandbox; its JSON answer, whatever the status."""
    data = json.dumps(form).encode() if json_body else urllib.parse.urlencode(form).encode()
    headers = {"Content-Type": "application/json"} if json_body else {}
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return dict(json.load(answer))
    except urllib.error.HTTPError as exc:
        return dict(json.load(exc))


def test_what_chatcast_promises_states_each_guarantee_once() -> None:
    page = (DOCS / "guarantees.md").read_text(encoding="utf-8")
    rows = [r for r in page.splitlines() if r.startswith("| ") and "---" not in r]
    promises = [r.split(" | ")[0].removeprefix("| ") for r in rows[1:]]
    assert len(promises) >= 10
    for i, a in enumerate(promises):
        for b in promises[i + 1 :]:
            # two rows that open alike promise the same thing twice (and then differ in what they promise)
            assert a[:60] != b[:60], f"two rows promise the same thing:\n{a}\n{b}"
    # a send whose outcome the platform left uncertain is never repeated: at most once, for every message, on every page
    for path in [README, *sorted(DOCS.rglob("*.md"))]:
        text = " ".join(path.read_text(encoding="utf-8").split())
        assert "exactly once" not in text.lower(), path
    assert "at most once" in " ".join(page.split()) and "at most once" in " ".join(
        README.read_text(encoding="utf-8").split()
    )

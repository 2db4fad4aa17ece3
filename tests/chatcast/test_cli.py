"""The command line: every command explains itself, errors are one line, imports and the demo work."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from assistant.knowledge import KnowledgeError
from chatcast.cli import app
from chatcast.console import run
from tests.fakes.cli import invoke

runner = CliRunner()
GROUPS = ("import", "db", "segments", "campaign", "serve", "demo", "report", "config", "customer")


def test_help_lists_every_command_group() -> None:
    code, output = invoke("--help")
    assert code == 0
    for group in GROUPS:
        assert re.search(rf"^\W*{group}\s+\w", output, re.M), group


@pytest.mark.parametrize(
    "command",
    [
        ["import"], ["import", "customers"], ["import", "products"], ["import", "orders"], ["db"],
        ["db", "upgrade"], ["db", "status"], ["segments"], ["segments", "validate"], ["segments", "refresh"],
        ["segments", "show"], ["segments", "explain"], ["campaign"], ["campaign", "validate"], ["campaign", "schema"],
        ["campaign", "preview"], ["campaign", "test-send"], ["campaign", "launch"], ["campaign", "pause"],
        ["campaign", "resume"], ["campaign", "cancel"], ["campaign", "status"], ["report"], ["report", "feedback"],
        ["serve"], ["demo"], ["customer"], ["customer", "export"], ["customer", "erase"],
        ["config"], ["config", "show"], ["import", "reviews"], ["report", "reviews"], ["products"],
        ["products", "describe"], ["products", "review"], ["products", "export"],
    ],
)  # fmt: skip
def test_every_command_has_help(command: list[str]) -> None:
    code, output = invoke(*command, "--help")
    assert code == 0
    assert "Usage:" in output and len(output.strip().splitlines()) > 3


def test_import_reports_rows_and_bad_rows(isolated: Path) -> None:
    (isolated / "c.csv").write_text("external_id,name,email\nC1,Ada,ada@example.com\nC2,Bob,bob-at-example\n")
    code, output = invoke("import", "customers", "c.csv")
    assert code == 0
    assert "2 rows read, 1 imported, 1 bad" in output
    assert "c.csv row 2 (line 3), column 'email': 'bob-at-example' is not an email address" in output
    code, output = invoke("db", "status")
    assert code == 0 and re.search(r"customer\s+│\s+1\b", output)


def test_strict_import_fails_with_one_line_and_writes_nothing(isolated: Path) -> None:
    (isolated / "c.csv").write_text("external_id,language\nC1,en\nC2,??\n")
    code, output = invoke("import", "customers", "c.csv", "--strict")
    assert code == 1
    assert "error: c.csv row 2 (line 3), column 'language'" in output
    assert "Traceback" not in output
    code, output = invoke("db", "status")
    assert re.search(r"customer\s+│\s+0\b", output)


def test_errors_are_one_clear_line_without_traceback(isolated: Path) -> None:
    code, output = invoke("import", "customers", "missing.csv")
    assert code == 1 and output.strip() == "error: missing.csv: no such file"
    (isolated / "bad.csv").write_text("external_id,emial\nC1,x\n")
    code, output = invoke("import", "customers", "bad.csv")
    assert code == 1 and "line 1 (header): unknown column 'emial'" in output and "Traceback" not in output
    code, output = invoke("import", "orders", "bad.csv", "--format", "excel")
    assert code == 2 and "choose chatcast or online-retail" in output


def test_a_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_TIMEZONE", "Nowhere/Special")
    code, output = invoke("db", "upgrade")
    assert code == 2
    assert "configuration error: CHATCAST_TIMEZONE: unknown timezone 'Nowhere/Special'" in output


def test_database_errors_hide_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_DATABASE_URL", "postgres://shop:pw-s3cret-value@127.0.0.1:1/shop")
    code, output = invoke("db", "upgrade")
    assert code == 1 and output.startswith("error:")
    assert "pw-s3cret-value" not in output and "Traceback" not in output


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_SLACK_BOT_TOKEN", "xoxb-very-secret-token")
    code, output = invoke("config", "show")
    assert code == 0 and "xoxb-very-secret-token" not in output and "********" in output


def test_serve_with_an_unreachable_database_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_DATABASE_URL", "postgres://shop:pw-s3cret-value@127.0.0.1:1/shop")
    code, output = invoke("serve", "--port", "0")
    assert code == 1 and output.startswith("error:") and len(output.strip().splitlines()) == 1, output
    assert "pw-s3cret-value" not in output and "Traceback" not in output


@pytest.mark.slow
def test_demo_loads_the_sample_shop_and_sends_a_campaign_through_both_sandboxes(isolated: Path) -> None:
    code, output = invoke("demo")
    assert code == 0, output
    assert re.search(r"customers\s+│\s+5,000", output)
    assert "products: 300 rows read, 300 imported, 0 bad" in output
    assert (isolated / "data" / "chatcast.sqlite3").is_file()
    assert "40 customers opted in through the shop's links" in output
    funnel = dict(re.findall(r"│ ([a-z_:]+(?: [a-z_]+)?)\s+│ ([\d,]+)\s+│", output))
    targeted, held, sent = (int(funnel[k].replace(",", "")) for k in ("targeted", "holdout", "sent"))
    assert targeted > 50 and 0 < held < targeted / 4 and sent > 0
    # customers who blocked the bot or left the workspace are skipped (blocked, deactivated: opted out, gone)
    skipped = sum(int(n.replace(",", "")) for k, n in funnel.items() if k.startswith("skipped: "))
    assert targeted == held + sent + skipped + int(funnel.get("failed", "0"))
    assert int(funnel["clicked"]) > 0 and int(funnel["snoozed"]) > 0
    # the clicks are links opened through the tracked redirect, and no "Not now" among them
    with sqlite3.connect(isolated / "data" / "chatcast.sqlite3") as shop:
        clicks = [json.loads(data) for (data,) in shop.execute("SELECT data FROM event WHERE type = 'clicked'")]
        tracked = shop.execute("SELECT COUNT(*) FROM delivery WHERE status = 'sent' AND links_tracked").fetchone()
    assert clicks and all(c["via"] == "link" and c["url"].startswith("https://") for c in clicks)
    assert tracked == (int(funnel["sent"].replace(",", "")),)
    chat = output.split("A customer chats with the shop assistant (offline) on Telegram:", 1)[1]
    assert re.search(r"shop: Your orders:\s+• Order O\d+", chat) and "Picked for you" in chat
    assert '"run them in"' in chat and "You're unsubscribed" in chat
    code, again = invoke("demo", "--no-send")
    assert code == 0 and re.search(r"customers\s+│\s+5,000", again)  # afresh, not doubled
    assert "Personas and segments (as of the shop's last order, 2026-11-01)" in again
    assert re.search(r"persona\s+│\s+vip\s+│\s+\d", again) and re.search(r"segment\s+│\s+runners_90d", again)
    assert "Funnel" not in again


def test_debug_shows_the_real_exception() -> None:
    result = runner.invoke(app, ["--debug", "import", "customers", "missing.csv"])
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "UserError" and "no such file" in str(result.exception)


def test_an_error_of_ours_is_one_clear_line_and_any_other_names_its_type() -> None:
    probe = typer.Typer()

    @probe.command()
    def fails(ctx: typer.Context, ours: bool = True) -> None:
        async def go() -> None:
            raise KnowledgeError("knowledge.yaml:3: shipping: unknown field") if ours else RuntimeError("a bug")

        run(ctx, go())

    def errors(*args: str) -> list[str]:
        result = runner.invoke(probe, list(args))
        assert result.exit_code == 1 and "Traceback" not in result.output
        return [line for line in result.output.splitlines() if line.startswith("error:")]

    assert errors() == ["error: knowledge.yaml:3: shipping: unknown field"]
    assert errors("--no-ours") == ["error: RuntimeError: a bug (run with --debug for the traceback)"]

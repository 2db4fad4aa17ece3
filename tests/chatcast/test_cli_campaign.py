"""``chatcast campaign validate`` and ``schema`` from the command line."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from typer.testing import CliRunner

from chatcast.cli import app
from storage import db
from tests.fakes.cli import invoke
from tests.fakes.databases import truncate

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
SEGMENTS = str(SHOP / "segments.yaml")
EXAMPLES = sorted(str(p) for p in (SHOP / "campaigns").glob("*.yaml"))
BAD = """\
id: spring
name: Spring
channels: [telegram]
audience:
  personas: [vip2]
message:
  brief: b
  tone_of_voice: warm
  template: "Hi {{ customer.first_name }} {{ unsubscribe }}"
"""
SALE = """\
id: sale
name: Sale
channels: [telegram]
audience:
  personas: [vip]
  holdout: 150%
offer:
  code: SPRING20
  discount: 200%
  # the last day it holds
  expires: 2027-04-30
message:
  brief: b
  template: "{{ offer.discount }} off with {{ offer.code }}. {{ unsubscribe }}"
  buttons: [{text: Shop, url: "{{ shop.url }}?code={{ offer.code }}"}]
schedule:
  window: {start: "22:00", end: "23:00"}
"""
runner = CliRunner()


def test_validate_accepts_the_sample_campaigns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_SHOP_URL", "https://shop.example.com")  # the win-back links to the shop
    with time_machine.travel(datetime(2026, 12, 1, tzinfo=UTC), tick=False):  # before their offers end
        code, output = invoke("campaign", "validate", *EXAMPLES, "--segments", SEGMENTS)
    assert code == 0, output
    lines = [line for line in output.strip().splitlines() if not line.startswith("  ")]
    assert len(lines) == 3 and all(line.startswith("✓ ") for line in lines)
    assert lines[0].endswith(
        "spring-sale.yaml: spring-sale — 2 steps, 2 variants, audience: personas new, bargain_hunter, everyone"
        " + segments runners_90d, minus personas vip, holdout 10%"
    )
    assert lines[1].endswith(
        "vip-early-access.yaml: vip-early-access — 2 steps, audience: personas vip"
        " + segments club_members, big_spenders_30d"
    )
    # under each file: whose words each step says; the reminder says its own whatever the variant
    spring = output.split("✓ ")[1].splitlines()[1:]
    assert spring == [
        "  main / variant saving: the variant's brief, the message's template",
        "  main / variant product: the variant's brief and template",
        "  reminder / every variant: the follow-up's own brief and template",
    ]


def test_validate_prints_every_located_problem_and_fails(isolated: Path) -> None:
    (isolated / "spring.yaml").write_text(BAD, encoding="utf-8")
    code, output = invoke("campaign", "validate", "spring.yaml", "-s", SEGMENTS)
    assert code == 1
    assert output.strip().splitlines() == [
        "error: spring.yaml:5: audience.personas[0]: unknown persona 'vip2' (did you mean 'vip'?)",
        "error: spring.yaml:8: message.tone_of_voice: unknown field 'tone_of_voice' (did you mean 'tone'?)",
    ]


def test_validate_refuses_a_template_past_its_rendering_budget_at_its_line(isolated: Path) -> None:
    """Two nested ``range(99999)`` loops took 4.7 GB before the budget (issue #26); now a line of error at once."""
    looping = (
        BAD.replace("vip2", "vip")
        .replace("  tone_of_voice: warm\n", "")
        .replace(
            '"Hi {{ customer.first_name }} {{ unsubscribe }}"',
            "|\n    Hi {{ customer.first_name }}\n    {% for i in range(99999) %}{% for j in range(99999) %}{{ i }}"
            "{% endfor %}{% endfor %}\n    {{ unsubscribe }}",
        )
    )
    (isolated / "spring.yaml").write_text(looping, encoding="utf-8")
    code, output = invoke("campaign", "validate", "spring.yaml", "-s", SEGMENTS)
    assert (code, output.strip().splitlines()) == (
        1,
        [
            "error: spring.yaml:10: message.template: the template exceeds its rendering budget: range() of 99,999"
            " numbers (at most 1,000)"
        ],
    )


def test_good_and_bad_files_together(isolated: Path) -> None:
    (isolated / "spring.yaml").write_text("id: spring\nname: [oops\n", encoding="utf-8")
    code, output = invoke("campaign", "validate", EXAMPLES[0], "spring.yaml", "missing.yaml", "-s", SEGMENTS)
    assert code == 1
    lines = [line for line in output.strip().splitlines() if not line.startswith("  ")]
    assert lines[0].startswith("✓ ")
    assert lines[1].startswith("error: spring.yaml:3: file: not valid YAML: ")
    assert lines[2] == "error: missing.yaml: cannot read it (No such file or directory)"
    assert lines[3] == "2 of 3 files have mistakes"


def test_without_a_segments_file_references_are_not_checked(isolated: Path) -> None:
    (isolated / "spring.yaml").write_text(BAD.replace("  tone_of_voice: warm\n", ""), encoding="utf-8")
    code, output = invoke("campaign", "validate", "spring.yaml")
    assert code == 0, output
    assert (
        "warning: no segments file segments.yaml and none kept in the database: personas and segments are not"
        " checked; to check them, pass --segments FILE, set CHATCAST_SEGMENTS_FILE, or run `chatcast segments"
        " refresh --file FILE`"
    ) in output
    assert "✓ spring.yaml: spring — 1 step, audience: personas vip2" in output
    assert not (isolated / "data").exists()  # looking for kept definitions creates no database


def test_the_settings_segments_file_is_used_and_named_when_nobody_named_it(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated / "spring.yaml").write_text(BAD.replace("  tone_of_voice: warm\n", ""), encoding="utf-8")
    shutil.copy(SEGMENTS, isolated / "segments.yaml")
    code, output = invoke("campaign", "validate", "spring.yaml")
    assert code == 1
    assert output.strip().splitlines() == [
        "personas and segments: segments.yaml (the default of CHATCAST_SEGMENTS_FILE)",
        "error: spring.yaml:5: audience.personas[0]: unknown persona 'vip2' (did you mean 'vip'?)",
    ]
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", SEGMENTS)
    code, output = invoke("campaign", "validate", "spring.yaml")
    assert code == 1 and output.strip().splitlines() == [
        "error: spring.yaml:5: audience.personas[0]: unknown persona 'vip2' (did you mean 'vip'?)"
    ]


def test_validate_refuses_what_could_not_go_out_as_written(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each mistake with its file:line, field and fix; the clock and the shop's settings are today's."""
    (isolated / "sale.yaml").write_text(SALE, encoding="utf-8")
    monkeypatch.setenv("CHATCAST_QUIET_HOURS", "21:00-08:00")
    monkeypatch.setenv("CHATCAST_TIMEZONE", "Europe/Berlin")
    with time_machine.travel(datetime(2027, 5, 2, 10, tzinfo=UTC), tick=False):
        code, output = invoke("campaign", "validate", "sale.yaml", "-s", SEGMENTS)
    assert code == 1
    assert output.strip().splitlines() == [
        "error: sale.yaml:6: audience.holdout: the holdout is a share from 0% to 50%, got '150%'",
        "error: sale.yaml:9: offer.discount: a discount is at most 100% (the whole price), got '200%'",
        "error: sale.yaml:15: message.buttons[0].url: the template prints shop.url, but no shop URL is set: set"
        " CHATCAST_SHOP_URL to the shop's address (e.g. https://shop.example.com), or print it only inside"
        " {% if shop.url %}",
    ]
    fixed = SALE.replace("150%", "10%").replace("200%", "20%")
    (isolated / "sale.yaml").write_text(fixed, encoding="utf-8")
    with time_machine.travel(datetime(2027, 5, 2, 10, tzinfo=UTC), tick=False):
        code, output = invoke("campaign", "validate", "sale.yaml", "-s", SEGMENTS)
    assert code == 1  # the model's mistakes fixed, what the clock and the settings say shows
    assert output.strip().splitlines() == [
        "error: sale.yaml:11: offer.expires: the offer SPRING20 expired on 2027-04-30 (today is 2027-05-02 in"
        " Europe/Berlin): set a later date, or take the offer out",
        "error: sale.yaml:15: message.buttons[0].url: the template prints shop.url, but no shop URL is set: set"
        " CHATCAST_SHOP_URL to the shop's address (e.g. https://shop.example.com), or print it only inside"
        " {% if shop.url %}",
        "error: sale.yaml:17: schedule.window: the window 22:00-23:00 lies inside the shop's quiet hours 21:00-08:00"
        " (CHATCAST_QUIET_HOURS): nothing could ever be sent; move the window, or narrow the quiet hours",
    ]
    monkeypatch.setenv("CHATCAST_SHOP_URL", "https://shop.example.com")
    monkeypatch.setenv("CHATCAST_QUIET_HOURS", "23:00-08:00")
    with time_machine.travel(datetime(2027, 4, 30, 21, 59, tzinfo=UTC), tick=False):  # 23:59 in Berlin
        code, output = invoke("campaign", "validate", "sale.yaml", "-s", SEGMENTS)
    assert code == 0, output
    assert output.strip().splitlines()[-2:] == [
        "✓ sale.yaml: sale — 1 step, audience: personas vip, holdout 10%",
        "  main: the message's brief and template",
    ]


async def _kept(url: str) -> None:
    async with db.database(url):
        if url.startswith("postgres"):
            await truncate()


def test_validate_checks_against_the_definitions_the_last_refresh_kept(
    backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From an empty database: a refresh keeps its segments file; validate, with no file at hand, uses it."""
    asyncio.run(_kept(backend))
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    shutil.copy(SEGMENTS, isolated / "shop-segments.yaml")
    result = runner.invoke(app, ["segments", "refresh", "--file", "shop-segments.yaml"])
    assert result.exit_code == 0, result.output
    (isolated / "shop-segments.yaml").unlink()  # the file is gone: the database still knows the personas
    (isolated / "spring.yaml").write_text(BAD.replace("  tone_of_voice: warm\n", ""), encoding="utf-8")
    code, output = invoke("campaign", "validate", "spring.yaml")
    assert code == 1
    lines = output.strip().splitlines()
    assert re.fullmatch(
        r"personas and segments: shop-segments.yaml as kept in the database by the last refresh,"
        r" \d{4}-\d\d-\d\d \d\d:\d\d UTC",
        lines[0],
    ), lines
    assert lines[1:] == ["error: spring.yaml:5: audience.personas[0]: unknown persona 'vip2' (did you mean 'vip'?)"]
    (isolated / "spring.yaml").write_text(BAD.replace("  tone_of_voice: warm\n", "").replace("vip2", "vip"))
    code, output = invoke("campaign", "validate", "spring.yaml")
    assert code == 0 and "✓ spring.yaml: spring — 1 step, audience: personas vip" in output


def test_an_unreadable_database_is_a_warning_for_validate(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_DATABASE_URL", "postgres://shop:pw-s3cret-value@127.0.0.1:1/shop")
    (isolated / "spring.yaml").write_text(BAD.replace("  tone_of_voice: warm\n", ""), encoding="utf-8")
    code, output = invoke("campaign", "validate", "spring.yaml")
    assert code == 0, output
    assert "warning: no segments file segments.yaml and the database postgres://shop:***@127.0.0.1:1/shop could" in (
        output
    )
    assert "pw-s3cret-value" not in output


def test_a_named_segments_file_must_exist_and_be_valid(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = invoke("campaign", "validate", EXAMPLES[0], "--segments", "nope.yaml")
    assert code == 1 and "error: no segments file nope.yaml" in output
    (isolated / "segs.yaml").write_text("personas: []\n", encoding="utf-8")
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", "segs.yaml")
    code, output = invoke("campaign", "validate", EXAMPLES[0])
    assert code == 1
    assert "error: segs.yaml:1: personas: at least one persona" in output
    assert "error: segs.yaml has mistakes: fix it before checking campaigns against it" in output


def test_schema_prints_json_schema() -> None:
    code, output = invoke("campaign", "schema")
    assert code == 0
    schema = json.loads(output)
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["title"] == "Chatcast campaign"
    assert "Audience" in schema["$defs"]


def test_schema_writes_a_file(isolated: Path) -> None:
    code, output = invoke("campaign", "schema", "--output", "campaign.schema.json")
    assert code == 0 and output.strip() == "wrote campaign.schema.json"
    assert json.loads((isolated / "campaign.schema.json").read_text(encoding="utf-8"))["title"] == "Chatcast campaign"
    code, output = invoke("campaign", "schema", "-o", "no/such/dir/x.json")
    assert code == 1 and "error: cannot write no/such/dir/x.json" in output


def test_validate_needs_a_file() -> None:
    code, output = invoke("campaign", "validate")
    assert code == 2 and "Missing argument" in output


def test_every_bad_timezone_is_one_located_error(isolated: Path, zone_files: str) -> None:
    names = ["America", "Nope/Nope", "", "../etc/passwd", "UTC", "Europe/Berlin"]
    good = BAD.replace("vip2", "vip").replace("  tone_of_voice: warm\n", "")
    files = []
    for n, zone in enumerate(names, 1):
        (isolated / f"z{n}.yaml").write_text(good + f"schedule:\n  timezone: '{zone}'\n", encoding="utf-8")
        files.append(f"z{n}.yaml")
    code, output = invoke("campaign", "validate", *files, "-s", SEGMENTS)
    lines = [line for line in output.strip().splitlines() if not line.startswith("  ")]
    assert code == 1 and len(lines) == 7, output
    line = len(good.splitlines()) + 2  # the timezone's: the last line of each file
    for n, zone in ((1, "America"), (2, "Nope/Nope"), (3, ""), (4, "../etc/passwd")):
        assert lines[n - 1].startswith(f"error: z{n}.yaml:{line}: schedule.timezone: unknown timezone {zone!r} (")
    assert lines[4].startswith("✓ z5.yaml: spring") and lines[5].startswith("✓ z6.yaml: spring")
    assert lines[6] == "4 of 6 files have mistakes"

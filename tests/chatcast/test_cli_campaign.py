"""``chatcast campaign validate`` and ``schema`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatcast.cli_campaign import campaign_app

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
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(campaign_app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_validate_accepts_the_sample_campaigns() -> None:
    code, output = invoke("validate", *EXAMPLES, "--segments", SEGMENTS)
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
    code, output = invoke("validate", "spring.yaml", "-s", SEGMENTS)
    assert code == 1
    assert output.strip().splitlines() == [
        "error: spring.yaml:5: audience.personas[0]: unknown persona 'vip2' (did you mean 'vip'?)",
        "error: spring.yaml:8: message.tone_of_voice: unknown field 'tone_of_voice' (did you mean 'tone'?)",
    ]


def test_good_and_bad_files_together(isolated: Path) -> None:
    (isolated / "spring.yaml").write_text("id: spring\nname: [oops\n", encoding="utf-8")
    code, output = invoke("validate", EXAMPLES[0], "spring.yaml", "missing.yaml", "-s", SEGMENTS)
    assert code == 1
    lines = [line for line in output.strip().splitlines() if not line.startswith("  ")]
    assert lines[0].startswith("✓ ")
    assert lines[1].startswith("error: spring.yaml:3: file: not valid YAML: ")
    assert lines[2] == "error: missing.yaml: cannot read it (No such file or directory)"
    assert lines[3] == "2 of 3 files have mistakes"


def test_without_a_segments_file_references_are_not_checked(isolated: Path) -> None:
    (isolated / "spring.yaml").write_text(BAD.replace("  tone_of_voice: warm\n", ""), encoding="utf-8")
    code, output = invoke("validate", "spring.yaml")
    assert code == 0, output
    assert "warning: no segments file segments.yaml: personas and segments are not checked" in output
    assert "✓ spring.yaml: spring — 1 step, audience: personas vip2" in output


def test_a_named_segments_file_must_exist_and_be_valid(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = invoke("validate", EXAMPLES[0], "--segments", "nope.yaml")
    assert code == 1 and "error: no segments file nope.yaml" in output
    (isolated / "segs.yaml").write_text("personas: []\n", encoding="utf-8")
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", "segs.yaml")
    code, output = invoke("validate", EXAMPLES[0])
    assert code == 1
    assert "error: segs.yaml:1: personas: at least one persona" in output
    assert "error: segs.yaml has mistakes: fix it before checking campaigns against it" in output


def test_schema_prints_json_schema() -> None:
    code, output = invoke("schema")
    assert code == 0
    schema = json.loads(output)
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["title"] == "Chatcast campaign"
    assert "Audience" in schema["$defs"]


def test_schema_writes_a_file(isolated: Path) -> None:
    code, output = invoke("schema", "--output", "campaign.schema.json")
    assert code == 0 and output.strip() == "wrote campaign.schema.json"
    assert json.loads((isolated / "campaign.schema.json").read_text(encoding="utf-8"))["title"] == "Chatcast campaign"
    code, output = invoke("schema", "-o", "no/such/dir/x.json")
    assert code == 1 and "error: cannot write no/such/dir/x.json" in output


def test_validate_needs_a_file() -> None:
    code, output = invoke("validate")
    assert code == 2 and "Missing argument" in output

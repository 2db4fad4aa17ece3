"""Each step says its own words: a variant's text is for the main message; a follow-up speaks for itself unless a
variant gives it words through ``steps``, which name follow-ups only (a located error otherwise)."""

from __future__ import annotations

import pytest

from campaigns.content.compose import Briefs
from campaigns.content.preview import steps
from campaigns.file.loader import CampaignError, parse_campaign
from campaigns.file.step_text import describe
from segments.definitions import parse

DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
YAML = """\
id: spring
name: Spring
channels: [telegram]
message: {brief: Main brief., template: "Main {{ unsubscribe }}"}
variants:
  - id: plain
  - id: bold
    brief: Bold main brief.
    template: "Bold main {{ unsubscribe }}"
  - id: own
    template: "Own main {{ unsubscribe }}"
    steps:
      reminder: {template: "Own reminder {{ customer.first_name }} {{ unsubscribe }}"}
follow_ups:
  - id: reminder
    after: 2d
    when: [not_clicked]
    message: {brief: Reminder brief., template: "Reminder {{ unsubscribe }}"}
  - id: last-call
    after: 1d
    message: {brief: Last brief., template: "Last {{ unsubscribe }}"}
"""


def words(step: str, variant: str) -> tuple[str, str]:
    brief = Briefs(parse_campaign(YAML), DEFS, step, (), "the shop").get("everyone", variant, "en")
    return brief.brief, brief.template


@pytest.mark.parametrize(
    ("step", "variant", "expected"),
    [
        ("main", "plain", ("Main brief.", "Main {{ unsubscribe }}")),
        ("main", "bold", ("Bold main brief.", "Bold main {{ unsubscribe }}")),
        ("main", "own", ("Main brief.", "Own main {{ unsubscribe }}")),
        ("run-20270405T0900Z", "bold", ("Bold main brief.", "Bold main {{ unsubscribe }}")),  # a recurring run
        ("reminder", "plain", ("Reminder brief.", "Reminder {{ unsubscribe }}")),
        ("reminder", "bold", ("Reminder brief.", "Reminder {{ unsubscribe }}")),  # not the variant's main text
        ("reminder", "own", ("Reminder brief.", "Own reminder {{ customer.first_name }} {{ unsubscribe }}")),
        ("last-call", "own", ("Last brief.", "Last {{ unsubscribe }}")),
        # a recurring run's follow-ups say the follow-up's words, and a variant's own for it
        ("run-20270405T0900Z/reminder", "bold", ("Reminder brief.", "Reminder {{ unsubscribe }}")),
        (
            "run-20270405T0900Z/reminder",
            "own",
            ("Reminder brief.", "Own reminder {{ customer.first_name }} {{ unsubscribe }}"),
        ),
        ("run-20270405T0900Z/last-call", "plain", ("Last brief.", "Last {{ unsubscribe }}")),
    ],
)
def test_each_step_says_its_own_words_whatever_the_variant(step: str, variant: str, expected: tuple[str, str]) -> None:
    assert words(step, variant) == expected


def test_validate_says_whose_words_each_step_uses() -> None:
    assert describe(parse_campaign(YAML)) == [
        "main / variant plain: the message's brief and template",
        "main / variant bold: the variant's brief and template",
        "main / variant own: the message's brief, the variant's template",
        "reminder / variant plain: the follow-up's own brief and template",
        "reminder / variant bold: the follow-up's own brief and template",
        "reminder / variant own: the follow-up's own brief, the variant's reminder template",
        "last-call / every variant: the follow-up's own brief and template",
    ]
    without = parse_campaign(YAML.split("variants:")[0] + "follow_ups:" + YAML.split("follow_ups:")[1])
    assert describe(without)[:2] == [
        "main: the message's brief and template",
        "reminder: the follow-up's own brief and template",
    ]


def problems(text: str) -> list[str]:
    with pytest.raises(CampaignError) as caught:
        parse_campaign(text, "spring.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_variant_step_that_names_no_follow_up_is_a_located_error_with_a_hint() -> None:
    lines = YAML.splitlines()
    at = lines.index('      reminder: {template: "Own reminder {{ customer.first_name }} {{ unsubscribe }}"}') + 1
    assert problems(YAML.replace("      reminder: {", "      remindr: {")) == [
        f"spring.yaml:{at}: variants[2].steps.remindr: unknown follow-up 'remindr' (did you mean 'reminder'?)"
    ]
    assert problems(YAML.replace("      reminder: {", "      main: {")) == [
        f"spring.yaml:{at}: variants[2].steps.main: the main message's words are the variant's own brief and"
        " template (at its top level); steps name follow-ups"
    ]
    assert problems(YAML.replace("Own reminder {{ customer.first_name }}", "Own reminder {{ custmer.name }}")) == [
        f"spring.yaml:{at}: variants[2].steps.reminder.template: unknown template variable 'custmer'"
        " (did you mean 'customer'?)"
    ]
    assert problems(YAML.replace('{template: "Own reminder', '{tone: warm, template: "Own reminder')) == [
        f"spring.yaml:{at}: variants[2].steps.reminder.tone: unknown field 'tone' (known: brief, template, image)"
    ]


def test_a_recurring_campaigns_follow_up_ids_must_leave_room_for_the_run_in_the_step() -> None:
    long = "a" * 46
    text = YAML.replace("message: {brief: Main", "schedule: {cron: 0 9 * * 1}\nmessage: {brief: Main").replace(
        "id: last-call", f"id: {long}"
    )
    with pytest.raises(CampaignError) as caught:
        parse_campaign(text, "weekly.yaml")
    [problem] = caught.value.problems
    assert problem.path == "follow_ups[1].id" and "shorten the id to 45 characters at most" in problem.message
    assert parse_campaign(text.replace(long, long[:45]))  # fits: run-20270405T0900Z/ and 45 make 64
    assert parse_campaign(YAML.replace("id: last-call", f"id: {long}"))  # not recurring: the id is the step


def test_a_recurring_campaigns_runs_have_its_follow_ups_to_preview() -> None:
    weekly = YAML.replace("message: {brief: Main", "schedule: {cron: 0 9 * * 1}\nmessage: {brief: Main")
    assert steps(parse_campaign(weekly)) == ["main", "reminder", "last-call"]

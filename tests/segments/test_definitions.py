"""segments.yaml: the format, and every kind of mistake named with its file, line and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.registry import names
from segments.definitions import DefinitionsError, load, parse
from segments.rules import Condition, Group, parse_window

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop" / "segments.yaml"
HEAD = "personas:\n  - id: a\n    description: d\n    tone: t\n"


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionsError) as caught:
        parse(text, "shop.yaml", names())  # the channels the CLI checks against
    return [str(p) for p in caught.value.problems]


def test_the_example_file_defines_the_seven_personas_in_order() -> None:
    defs = load(EXAMPLE)
    assert defs.persona_ids() == ["vip", "new", "lapsed", "at_risk", "bargain_hunter", "gift_shopper", "everyone"]
    assert defs.personas[-1].when is None and all(p.when for p in defs.personas[:-1])
    assert all(p.description and p.tone for p in defs.personas)
    assert "runners_90d" in defs.segments and "telegram_club" in defs.segments


def test_a_rule_reads_into_a_tree_with_lines() -> None:
    defs = parse(
        HEAD + "    when:\n      all:\n        - language: en\n        - not:\n"
        "            orders_count: {gte: 2, within: 30 days}\n"
        "  - id: rest\n    description: d\n    tone: t\n"
    )
    rule = defs.personas[0].when
    assert isinstance(rule, Group) and rule.op == "all" and rule.line == 6
    first, second = rule.children
    assert isinstance(first, Condition) and first.ops == (("eq", "en"),) and first.line == 7
    assert isinstance(second, Group) and second.op == "not"
    inner = second.children[0]
    assert isinstance(inner, Condition) and inner.within_days == 30 and inner.ops == (("gte", 2),)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("order_count: 3", "unknown field 'order_count' (did you mean 'orders_count'?)"),
        ("orders_count: {above: 3}", "unknown operator 'above' for a count field"),
        ("orders_count: {contains: 3}", "operator 'contains' for a count field"),
        ("orders_count: five", "orders_count: eq takes a number, got 'five'"),
        ("orders_count: {gte: -1}", "orders_count: gte takes a whole number of at least 0, got -1"),
        ("total_spend: {between: [10]}", "between takes [low, high], two numbers"),
        ("language: {in: en}", "in takes a list of names"),
        ("language: 3", "language: eq takes text, got 3"),
        ("tags: {contains_all: []}", "contains_all takes a list of names"),
        ("opted_in: yes please", "opted_in: takes true or false"),
        ("channel: whatsapp", "unknown channel 'whatsapp' (channels: telegram, slack)"),
        ("orders_count: {gte: 1, within: fortnight}", "within: 'fortnight' is not a window"),
        ("language: {eq: en, within: 30 days}", "language takes no window"),
        ("bought: running-shoes", "bought takes a mapping"),
        ("bought: {within: 30 days}", "bought needs a category or a sku"),
        ("all: []", "all takes a non-empty list of rules"),
        ("{language: en, country: US}", "a rule is a mapping with exactly one key"),
        ("segment: vips", "a persona rule cannot use segment"),
        ("persona: vip", "a persona rule cannot use persona"),
    ],
)
def test_a_bad_rule_is_named_with_file_line_and_path(when: str, message: str) -> None:
    text = HEAD + f"    when:\n      {when}\n  - id: rest\n    description: d\n    tone: t\n"
    found = problems(text)
    assert len(found) == 1 and found[0].startswith("shop.yaml:6: personas[a].when"), found
    assert message in found[0]


def test_nested_mistakes_point_at_their_own_line() -> None:
    text = HEAD + "    when:\n      any:\n        - language: en\n        - not:\n            ordres: 1\n"
    text += "  - id: rest\n    description: d\n    tone: t\n"
    (found,) = problems(text)
    assert found.startswith("shop.yaml:9: personas[a].when.any[1].not.ordres: unknown field 'ordres'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "personas:\n  - id: a\n    description: d\n    tone: t\n    when: {language: en}\n",
            "the last persona is the catch-all",
        ),
        (HEAD + HEAD.split("\n", 1)[1], "the same id twice"),
        (HEAD + "  - id: b\n    description: d\n    tone: t\n", "needs a `when` rule (only the last persona"),
        ("personas:\n  - id: Big Spenders\n    description: d\n    tone: t\n", "id must be lower-case"),
        ("personas:\n  - id: a\n    tone: t\n", "description must be non-empty text"),
        (HEAD + "    colour: red\n", "unknown key 'colour'"),
        (HEAD + "segment:\n  - id: x\n", "unknown section"),
        ("segments: []\n", "at least one persona is needed"),
        (HEAD + "segments:\n  - id: x\n    when: {segment: y}\n", "unknown segment 'y'"),
        (HEAD + "segments:\n  - id: x\n    when: {segment: x}\n", "refers to itself"),
        (HEAD + "segments:\n  - id: x\n    description: d\n", "needs a `when` rule"),
        ("personas: [\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping with personas and segments"),
    ],
)
def test_file_level_mistakes(text: str, message: str) -> None:
    found = problems(text)
    assert any(message in p for p in found), found
    assert all(p.startswith("shop.yaml:") for p in found)


def test_every_mistake_is_reported_not_only_the_first() -> None:
    text = HEAD + "    when: {ordres: 1}\n  - id: b\n    description: d\n    tone: t\n    when: {langauge: en}\n"
    text += "  - id: rest\n    description: d\n    tone: t\n"
    found = problems(text)
    assert [p.split(":")[1] for p in found] == ["5", "9"]


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "segments.yaml"
    path.write_bytes(b"personas:\n  - id: caf\xe9\n")
    with pytest.raises(DefinitionsError, match=r"segments.yaml:1: file: not UTF-8"):
        load(path)


@pytest.mark.parametrize(
    ("text", "days"),
    [(30, 30), ("30 days", 30), ("90d", 90), ("2 weeks", 14), ("1 week", 7), ("6 months", 180), ("1 year", 365)],
)
def test_windows(text: object, days: int) -> None:
    assert parse_window(text) == days


@pytest.mark.parametrize("text", ["0 days", "-3 days", "soon", "", True, 0, "3 fortnights"])
def test_bad_windows(text: object) -> None:
    assert parse_window(text) is None

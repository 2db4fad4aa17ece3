"""Campaign YAML: the model, and every kind of mistake named by file, line and field."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jinja2.exceptions import SecurityError, UndefinedError
from ruamel.yaml import YAML

from bots.registry import names
from campaigns.file.definition import Campaign, campaign_schema, cron_problem
from campaigns.file.loader import CampaignError, load_campaign, parse_campaign
from campaigns.file.templates import template_env
from segments.definitions import Definitions, load
from tests.fakes.campaign_files import GOOD, edit, line_of

SHOP = Path(__file__).resolve().parents[3] / "examples" / "shop"
EXAMPLES = sorted((SHOP / "campaigns").glob("*.yaml"))


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return load(SHOP / "segments.yaml")


@pytest.fixture(scope="module")
def catalog() -> tuple[set[str], set[str]]:
    with (SHOP / "products.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {r["sku"] for r in rows}, {r["category"] for r in rows}


def problems(text: str, **checks: Any) -> list[str]:
    checks.setdefault("channels", names())  # the channels the CLI checks against
    with pytest.raises(CampaignError) as caught:
        parse_campaign(text, "spring.yaml", **checks)
    return [str(p) for p in caught.value.problems]


def test_a_good_campaign_becomes_the_model(definitions: Definitions) -> None:
    campaign = parse_campaign(
        edit("offer: {code: SPRING20, discount: 20%}", "offer: {code: SPRING20, discount: 20%, expires: 2026-04-30}")
        + "schedule: {start_at: 2026-04-01T10:00:00+02:00, window: {start: '09:00', end: '20:00'}}\n",
        definitions=definitions,
    )
    assert campaign.id == "spring" and campaign.channels == ["telegram"]
    assert campaign.offer is not None and campaign.offer.expires == date(2026, 4, 30)
    assert campaign.schedule is not None and campaign.schedule.start_at is not None
    assert type(campaign.schedule.start_at) is datetime and campaign.schedule.start_at.utcoffset() == timedelta(hours=2)
    assert [v.id for v in campaign.variants] == ["a", "b"] and campaign.follow_ups[0].when == ["not_clicked"]


def test_unknown_field_names_its_line_and_suggests_the_right_one() -> None:
    text = edit("  brief: The spring sale.", "  brief: The spring sale.\n  tone_of_voice: warm")
    assert problems(text) == [
        f"spring.yaml:{line_of(text, 'tone_of_voice')}: message.tone_of_voice:"
        " unknown field 'tone_of_voice' (did you mean 'tone'?)"
    ]


def test_unknown_top_level_field_lists_the_known_ones_when_nothing_is_close() -> None:
    text = GOOD + "zzz: 1\n"
    (problem,) = problems(text)
    assert problem.startswith(f"spring.yaml:{line_of(text, 'zzz')}: zzz: unknown field 'zzz' (known: id, name, ")


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            "  personas: [vip, new]",
            "  personas: [vip, new]\n  holdout: lots",
            "audience.holdout",
            "expected a share such as 0.1 or 10%, got 'lots'",
        ),
        (
            "discount: 20%}",
            "discount: 20}",
            "offer.discount",
            "an amount needs its currency: write '20 EUR' (or another ISO 4217 code), or '20%' for a share",
        ),
        ("  - id: a\n", "  - id: a\n    weight: [1]\n", "variants[0].weight", "expected a number, got a list"),
        (
            "  brief: The spring sale.",
            "  brief: The spring sale.\n  max_length: 10",
            "message.max_length",
            "must be at least 50, got 10",
        ),
        (
            "channels: [telegram]",
            "channels: [telegarm]",
            "channels[0]",
            "unknown value 'telegarm' (did you mean 'telegram'?)",
        ),
        ("when: [not_clicked]", "when: [opened]", "follow_ups[0].when[0]", "unknown value 'opened' (known: clicked, "),
        (
            "rule: bestsellers",
            "rule: random",
            "products.recommend.rule",
            "unknown value 'random' (known: cross_sell, upsell, bestsellers)",
        ),
        (
            "rule: bestsellers",
            "rule: bestsellers, fill: everything",
            "products.recommend.fill",
            "unknown value 'everything' (known: category, any)",
        ),
        ("id: spring", "id: Spring Sale", "id", "must be lower-case letters, digits, - or _"),
        ("after: 2d", "after: 2 days", "follow_ups[0].after", "must be a delay in minutes, hours or days"),
        ("  - id: a\n", "  - id: a\n    weight: 0\n", "variants[0].weight", "must be more than 0, got 0"),
        ("channels: [telegram]", "channels: []", "channels", "needs at least 1 item(s), got 0"),
        ("  brief: The spring sale.", "  brief: ''", "message.brief", "must not be empty"),
    ],
)
def test_wrong_values_name_line_field_and_what_was_expected(old: str, new: str, path: str, message: str) -> None:
    text = edit(old, new)
    (problem,) = problems(text)
    assert problem.startswith(
        f"spring.yaml:{line_of(text, path.split('.')[-1].split('[')[0] + ':')}: {path}: {message}"
    )


def test_holdout_must_be_well_under_one() -> None:
    text = edit("  personas: [vip, new]", "  personas: [vip, new]\n  holdout: 1")
    assert problems(text) == [f"spring.yaml:{line_of(text, 'holdout')}: audience.holdout: must be at most 0.5, got 1"]


@pytest.mark.parametrize(
    ("written", "share"), [("10%", 0.1), ("12.5 %", 0.125), ("0%", 0.0), ("50%", 0.5), ("0.1", 0.1)]
)
def test_holdout_takes_a_percentage_like_the_discount(written: str, share: float) -> None:
    text = edit("  personas: [vip, new]", f"  personas: [vip, new]\n  holdout: {written}")
    assert parse_campaign(text).audience.holdout == share


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("150%", "the holdout is a share from 0% to 50%, got '150%'"),
        ("60%", "the holdout is a share from 0% to 50%, got '60%'"),
        ("-5%", "the holdout is a share from 0% to 50%, got '-5%'"),
        ("abc", "expected a share such as 0.1 or 10%, got 'abc'"),
        ("10", "the holdout is a share from 0 to 0.5 (50%), got 10: did you mean 10%?"),
        ("0.6", "must be at most 0.5, got 0.6"),
    ],
)
def test_a_holdout_that_is_no_share_says_how_to_write_one(written: str, message: str) -> None:
    text = edit("  personas: [vip, new]", f"  personas: [vip, new]\n  holdout: {written}")
    assert problems(text) == [f"spring.yaml:{line_of(text, 'holdout')}: audience.holdout: {message}"]


@pytest.mark.parametrize("written", ["20%", "100%", "0.5%", "12.5 %", "10 EUR", "9.99 USD", "5 CHF"])
def test_a_discount_is_a_share_up_to_100_percent_or_an_amount_with_its_currency(written: str) -> None:
    campaign = parse_campaign(edit("discount: 20%}", f"discount: {written}}}"))
    assert campaign.offer is not None and campaign.offer.discount == written


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("200%", "a discount is at most 100% (the whole price), got '200%'"),
        ("0%", "a discount of '0%' gives nothing: write a share above 0% and at most 100%, or drop the offer"),
        ("-5%", "a discount cannot be negative, got '-5%': write what the customer saves, e.g. '5%'"),
        ("10", "an amount needs its currency: write '10 EUR' (or another ISO 4217 code), or '10%' for a share"),
        (
            "0.15",
            "an amount needs its currency: write '0.15 EUR' (or another ISO 4217 code), or '15%' for a share of the"
            " price",
        ),
        ("10 euro", "write the currency as its ISO 4217 code: '10 EUR', got '10 euro'"),
        ("10 eur", "write the currency as its ISO 4217 code: '10 EUR', got '10 eur'"),
        ("10 dollars", "write the currency as its ISO 4217 code: '10 USD', got '10 dollars'"),
        ("'€10'", "write the number (decimals with a point), then % or a currency code: '10 EUR', got '€10'"),
        ("'12,5%'", "write the number (decimals with a point), then % or a currency code: '12.5%', got '12,5%'"),
        ("0 EUR", "a discount of '0 EUR' gives nothing: write an amount above 0"),
        ("10 bucks", "after the number write % or a currency's ISO 4217 code (e.g. '10 EUR'), got '10 bucks'"),
        ("lots", "expected a share such as '20%' or an amount with its currency code such as '10 EUR', got 'lots'"),
    ],
)
def test_a_discount_out_of_range_or_without_currency_says_how_to_write_it(written: str, message: str) -> None:
    text = edit("discount: 20%}", f"discount: {written}}}")
    assert problems(text) == [f"spring.yaml:{line_of(text, 'discount')}: offer.discount: {message}"]


def test_a_missing_field_is_named_at_its_parent() -> None:
    start = GOOD.index("  template: |")
    text = GOOD[:start] + GOOD[GOOD.index("  buttons:") :]
    assert problems(text) == [f"spring.yaml:{line_of(text, 'message:')}: message.template: missing (required)"]


def test_a_section_of_the_wrong_shape() -> None:
    text = edit("products:\n  recommend: {rule: bestsellers, category: running-shoes}", "products: [RUN-0001]")
    assert problems(text) == [f"spring.yaml:{line_of(text, 'products:')}: products: expected a mapping, got a list"]


def test_model_rules_that_span_fields() -> None:
    text = edit("  recommend: {rule: bestsellers, category: running-shoes}", "  skus: [A]\n  recommend: {rule: upsell}")
    text = text.replace('      url: "{{ product.url }}"', '      url: "{{ product.url }}"\n      action: buy')
    assert problems(text) == [
        f"spring.yaml:{line_of(text, 'products:')}: products: give either skus or a recommend rule (one of the two)",
        f"spring.yaml:{line_of(text, '- text: Shop')}: message.buttons[0]: a button has either url or action",
    ]


def test_unknown_persona_and_segment_references(definitions: Definitions) -> None:
    text = edit("  personas: [vip, new]", "  personas: [vip, new, vip2]\n  exclude_segments: [runner_90d]")
    text = text.replace("  brief: The spring sale.", "  brief: The spring sale.\n  tone: {vip: warm, bargain: direct}")
    assert problems(text, definitions=definitions) == [
        f"spring.yaml:{line_of(text, 'vip2')}: audience.personas[2]: unknown persona 'vip2' (did you mean 'vip'?)",
        f"spring.yaml:{line_of(text, 'runner_90d')}: audience.exclude_segments[0]:"
        " unknown segment 'runner_90d' (did you mean 'runners_90d'?)",
        f"spring.yaml:{line_of(text, 'bargain')}: message.tone.bargain: unknown persona 'bargain'"
        " (did you mean 'bargain_hunter'?)",
    ]
    assert parse_campaign(GOOD, definitions=definitions).audience.personas == ["vip", "new"]


def test_a_persona_the_model_refused_is_reported_once(definitions: Definitions) -> None:
    text = edit("  personas: [vip, new]", "  personas: [vip, VIP2]")
    (problem,) = problems(text, definitions=definitions)
    assert problem.startswith(f"spring.yaml:{line_of(text, 'VIP2')}: audience.personas[1]: must be lower-case")


def test_unknown_sku_and_category(catalog: tuple[set[str], set[str]]) -> None:
    skus, categories = catalog
    text = edit("  recommend: {rule: bestsellers, category: running-shoes}", "  skus:\n    - RUN-0001\n    - RUN-0001X")
    assert problems(text, skus=skus) == [
        f"spring.yaml:{line_of(text, '- RUN-0001X')}: products.skus[1]:"
        " unknown SKU 'RUN-0001X' (did you mean 'RUN-0001'?)"
    ]
    text = edit("category: running-shoes", "category: running")
    assert problems(text, categories=categories) == [
        f"spring.yaml:{line_of(text, 'category')}: products.recommend.category:"
        " unknown category 'running' (did you mean 'running-shoes'?)"
    ]
    assert parse_campaign(GOOD, skus=skus, categories=categories).id == "spring"


def test_template_mistakes_are_located_on_their_own_line() -> None:
    text = edit("    {{ unsubscribe }}\n", "    {{ unsubscribe }} {{ cusomer.name }}\n    {{ customer.email }}\n")
    text = text.replace('url: "{{ product.url }}"', 'url: "{{ shop.link }}"')
    assert problems(text) == [
        f"spring.yaml:{line_of(text, 'cusomer')}: message.template: unknown template variable 'cusomer'"
        " (did you mean 'customer'?)",
        f"spring.yaml:{line_of(text, 'customer.email')}: message.template: customer has no field 'email'"
        " (known: first_name, language, name)",
        f"spring.yaml:{line_of(text, 'shop.link')}: message.buttons[0].url: shop has no field 'link'"
        " (known: name, url)",
    ]


def test_template_syntax_errors_and_loop_variables() -> None:
    text = edit("    {{ unsubscribe }}\n", "    {% for p in products %}{{ p.nam }}{% endfor %}\n    {% if %}\n")
    text = text.replace('template: "{{ product.name }} - {{ offer.code }}"', "template: '{{ product.name '")
    assert problems(text) == [
        f"spring.yaml:{line_of(text, '{% if %}')}: message.template: template syntax error:"
        " Expected an expression, got 'end of statement block'",
        f"spring.yaml:{line_of(text, 'product.name ' + chr(39))}: variants[1].template: template syntax error:"
        " unexpected end of template, expected 'end of print statement'.",
    ]
    text = edit("    {{ unsubscribe }}\n", "    {% for p in products %}{{ p.nam }}{% endfor %}\n")
    assert problems(text) == [
        f"spring.yaml:{line_of(text, 'p.nam')}: message.template: p has no field 'nam' (did you mean 'name'?)"
    ]


def test_a_template_cannot_use_what_the_campaign_lacks() -> None:
    text = edit("offer: {code: SPRING20, discount: 20%}\n", "")
    assert problems(text) == [
        f"spring.yaml:{line_of(text, 'offer.discount')}: message.template: the template uses 'offer'"
        " but the campaign has no offer",
        f"spring.yaml:{line_of(text, '- {{ offer.code')}: variants[1].template: the template uses 'offer'"
        " but the campaign has no offer",
    ]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("cron: '0 9 * *'", "schedule.cron: a cron has 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("cron: '0 25 * * *'", "schedule.cron: hour: '25' is out of range (0-23)"),
        (
            "timezone: Europe/Berln",
            "schedule.timezone: unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)",
        ),
        ("timezone: Mars/Olympus", "schedule.timezone: unknown timezone 'Mars/Olympus' (use an IANA name such as"),
        ("local_time: 9am", "schedule.local_time: expected a time such as 09:30, got text '9am'"),
        ("window: {start: '09:00', end: '09:00'}", "schedule.window: the window starts and ends at the same time"),
    ],
)
def test_schedule_mistakes(schedule: str, message: str) -> None:
    text = GOOD + f"schedule:\n  {schedule}\n"
    (problem,) = problems(text)
    assert problem.startswith(f"spring.yaml:{len(text.splitlines())}: {message}")


def test_end_before_start() -> None:
    text = GOOD + "schedule:\n  start_at: 2026-05-01T10:00:00Z\n  end_at: 2026-04-01T10:00:00Z\n"
    assert problems(text) == [f"spring.yaml:{line_of(text, 'schedule:')}: schedule: end_at must be after start_at"]


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("*/15 8-20 * * mon-fri", None),
        ("0 9 1,15 jan-jun 0", None),
        ("0 10 * * 7", None),
        ("60 9 * * *", "minute: '60' is out of range (0-59)"),
        ("0 9 0 * *", "day of month: '0' is out of range (1-31)"),
        ("0 9 * 13 *", "month: '13' is out of range (1-12, or names)"),
        ("0 9 * * fri-mon", "day of week: 'fri-mon' is a backwards range"),
        ("*/0 * * * *", "minute: '*/0' has a step of 0"),
        ("0 9 * * mon,", "day of week: '' is not a value, range, list or step"),
        ("@daily", "a cron has 5 fields (minute hour day-of-month month day-of-week), got 1"),
    ],
)
def test_cron_expressions(expr: str, problem: str | None) -> None:
    assert cron_problem(expr) == problem


def test_duplicate_ids_and_the_reserved_main_step() -> None:
    text = edit("  - id: b\n", "  - id: a\n")
    text += "  - id: main\n    after: 1d\n    message: {brief: x, template: y}\n"
    text += "  - id: reminder\n    after: 3d\n    message: {brief: x, template: y}\n"
    lines = text.splitlines()
    second_a, main, reminder = (
        lines.index("  - id: a", lines.index("  - id: a") + 1) + 1,
        lines.index("  - id: main") + 1,
        len(lines) - 2,
    )
    assert problems(text) == [
        f"spring.yaml:{second_a}: variants[1].id: variant id 'a' is already taken by variants[0]",
        f"spring.yaml:{main}: follow_ups[1].id: step id 'main' is already taken by the first step",
        f"spring.yaml:{reminder}: follow_ups[2].id: step id 'reminder' is already taken by follow_ups[0]",
    ]


def test_yaml_syntax_errors_are_located() -> None:
    assert problems("id: x\nname: [a, b\nchannels: [slack]\n") == [
        "spring.yaml:3: file: not valid YAML: expected ',' or ']', but got ':'"
        " (while parsing a flow sequence on line 2)"
    ]
    assert problems("id: x\n\tname: y\n") == [
        "spring.yaml:2: file: not valid YAML: found character '\\t' that cannot start any token"
    ]
    assert problems("id: x\nid: y\n")[0].startswith('spring.yaml:2: file: not valid YAML: found duplicate key "id"')
    assert problems("") == ["spring.yaml:1: file: expected a mapping: a campaign with id, name, message"]
    assert problems("- id: x\n") == ["spring.yaml:1: file: expected a mapping: a campaign with id, name, message"]


def test_aliases_cannot_blow_up() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    assert problems(bomb) == ["spring.yaml:1: file: more than 100,000 values: is an alias repeating a block?"]


def test_every_problem_is_reported_at_once_in_line_order(definitions: Definitions) -> None:
    text = GOOD.replace("[vip, new]", "[vip, nobody]").replace("  brief: The spring sale.", "  brief: 3\n  tones: {}")
    text = text.replace("after: 2d", "after: soon").replace("{{ customer.name }}", "{{ customer.nam }}")
    found = problems(text, definitions=definitions)
    assert [p.split(": ")[1] for p in found] == [
        "audience.personas[1]",
        "message.brief",
        "message.tones",
        "follow_ups[0].after",
        "follow_ups[0].message.template",
    ]
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines) and len(set(lines)) == 5
    with pytest.raises(CampaignError, match=r"^spring.yaml:5: audience.personas\[1\]: .* \(and 4 more\)$"):
        parse_campaign(text, "spring.yaml", definitions=definitions)


def test_load_campaign_reads_files(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(b"id: \xff\n")
    with pytest.raises(CampaignError, match=r"bad.yaml:1: file: not UTF-8 text"):
        load_campaign(tmp_path / "bad.yaml")
    with pytest.raises(FileNotFoundError):
        load_campaign(tmp_path / "missing.yaml")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_sample_shop_campaigns_validate(
    path: Path, definitions: Definitions, catalog: tuple[set[str], set[str]]
) -> None:
    skus, categories = catalog
    campaign = load_campaign(path, definitions=definitions, skus=skus, categories=categories)
    assert campaign.id == path.stem and campaign.message.buttons and campaign.message.tone
    assert any(b.url for b in campaign.message.buttons) and any(b.action for b in campaign.message.buttons)


def test_there_are_three_sample_campaigns() -> None:
    assert [p.name for p in EXAMPLES] == ["spring-sale.yaml", "vip-early-access.yaml", "winback.yaml"]


def as_json(path: Path) -> Any:
    """A campaign file as JSON sees it (an editor's YAML plugin reads dates and times as strings)."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return json.loads(json.dumps(data, default=lambda v: v.isoformat()))


def test_the_json_schema_describes_the_model() -> None:
    schema = campaign_schema(names())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Chatcast campaign" and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"id", "name", "channels", "message"}
    assert set(schema["properties"]) == set(Campaign.model_fields)
    json.dumps(schema)
    for path in EXAMPLES:
        assert set(schema["required"]) <= set(as_json(path))


def test_the_json_schema_is_valid_and_accepts_the_examples() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator
    validator.check_schema(campaign_schema(names()))
    checker = validator(campaign_schema(names()))
    for path in EXAMPLES:
        assert not list(checker.iter_errors(as_json(path))), path.name
    bad = as_json(EXAMPLES[0]) | {"tone_of_voice": "warm", "channels": ["sms"]}
    assert len(list(checker.iter_errors(bad))) == 2


def test_the_template_environment_is_sandboxed_strict_and_not_escaping() -> None:
    env = template_env()
    assert env.from_string("{{ x }}").render(x="<b>&</b>") == "<b>&</b>"
    with pytest.raises(UndefinedError):
        env.from_string("{{ customer.name }}").render()
    with pytest.raises(SecurityError):
        env.from_string("{{ f.__globals__ }}").render(
            f=test_the_template_environment_is_sandboxed_strict_and_not_escaping
        )


def test_follow_up_conditions_combine_with_and_or_not(definitions: Definitions) -> None:
    text = edit("when: [not_clicked]", "when: [{any: [clicked, purchased]}, not_replied]")
    [follow_up] = parse_campaign(text, definitions=definitions).follow_ups
    assert [getattr(item, "any", item) for item in follow_up.when] == [["clicked", "purchased"], "not_replied"]
    bad = edit("when: [not_clicked]", "when: [{any: [clicked, opened]}]")
    known = "clicked, not_clicked, replied, not_replied, purchased, not_purchased"
    assert problems(bad) == [
        f"spring.yaml:{line_of(bad, 'when:')}: follow_ups[0].when[0].any[1]: unknown value 'opened' (known: {known})"
    ]

"""A template renders within its budget, counted while it renders: steps, time, the size of each value and of the
output. Each way past it is refused in milliseconds and a few hundred kilobytes, at the template's line."""

from __future__ import annotations

import itertools
import time
import tracemalloc
from typing import Any

import pytest

from campaigns.file.budget import MAX_OUTPUT, BudgetedEnvironment, OverBudget, render_within_budget
from campaigns.file.loader import CampaignError, parse_campaign
from campaigns.file.templates import template_env, template_problems
from tests.fakes.campaign_files import GOOD, line_of

PREFIX = "the template exceeds its rendering budget: "
NESTED = "Hi\n{% for i in range(999) %}\n{% for j in range(999) %}{% endfor %}{% endfor %}"
BOMBS = {
    "nested ranges (the issue's)": (
        "{% for i in range(99999) %}{% for j in range(99999) %}{{ i }}{% endfor %}{% endfor %}",
        "range() of 99,999 numbers (at most 1,000)",
    ),
    "nested loops": (NESTED, "more than 100,000 steps (loop iterations and calls)"),
    "doubled by ~": (
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "the joined text (~) would hold 32,768",
    ),
    "doubled by +": (
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "the sum (+) would hold 32,768",
    ),
    "repeated": ("{{ 'x' * 1000000000 }}", "the repetition (*) would hold 1,000,000,000"),
    "centred": ("{{ 'x'|center(1000000000) }}", "the filter 'center' would hold 1,000,000,000"),
    "padded": ("{{ 'x'.ljust(1000000000) }}", "str.ljust() would hold 1,000,000,000"),
    "format width": ("{{ '{:>999999999}'.format(1) }}", "the format spec '>999999999'"),
    "printf width": ("{{ '%999999999d' % 1 }}", "the format '%999999999'"),
    "printf filter": ("{{ '%999999999d'|format(1) }}", "the format '%999999999'"),
    "a macro's buffer": (
        "{% macro m() %}{% for i in range(300) %}{{ 'x' * 20000 }}{% endfor %}{% endmacro %}{{ m()|length }}",
        "produces more than 100,000 characters (macros and blocks too)",
    ),
    "a list extending itself": (
        "{% set l = [1] %}{% for i in range(40) %}{{ l.extend(l) }}{% endfor %}",
        "list.extend() would hold 32,768",
    ),
    "joined": ("{{ range(1000)|join('x' * 20000) }}", "the filter 'join' would hold 20,000,001"),
    "replaced": ("{{ ('x' * 20000)|replace('', 'yy') }}", "the filter 'replace' would hold 60,002"),
    "batched": ("{{ [1]|batch(1000000000, 'x')|list }}", "the filter 'batch' would hold 1,000,000,000"),
    "lorem ipsum": ("{{ lipsum(100000) }}", "lipsum() would hold 10,000,000"),
    "printed": ("{% for i in range(100) %}{{ 'y' * 1000 }}{% endfor %}", "prints more than 20,000 characters"),
}


@pytest.mark.parametrize("source", [source for source, _ in BOMBS.values()], ids=list(BOMBS))
def test_a_template_past_its_budget_is_refused_while_it_renders_in_little_memory(source: str) -> None:
    message = dict(BOMBS.values())[source]
    tracemalloc.start()
    try:
        started = time.perf_counter()
        problems = template_problems(source)
        seconds, (_, peak) = time.perf_counter() - started, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(problems) == 1 and problems[0][1].startswith(PREFIX) and message in problems[0][1], problems
    assert peak < 8_000_000 and seconds < 10  # before the budget: gigabytes, or minutes


def test_the_refusal_names_the_line_where_rendering_stopped() -> None:
    assert template_problems(NESTED) == [(3, PREFIX + "the template takes more than 100,000 steps (loop iterations"
                                               " and calls)")]  # fmt: skip
    assert template_problems("Hi\nthere\n\n{{ 'x'|center(99999) }}")[0][0] == 4


def test_validate_names_the_file_and_line_of_a_template_past_its_budget() -> None:
    text = GOOD.replace("Hi {{ customer.first_name }}!", "{% for i in range(99999) %}{{ i }}{% endfor %}")
    with pytest.raises(CampaignError) as caught:
        parse_campaign(text, "spring.yaml")
    [problem] = caught.value.problems
    where = (problem.file, problem.line, problem.path)
    assert where == ("spring.yaml", line_of(text, "range(99999)"), "message.template")
    assert problem.message == PREFIX + "range() of 99,999 numbers (at most 1,000)"


GOOD_TEMPLATES = [
    "{% for p in products %}{{ loop.index }}. {{ p.name }}{% if not loop.last %}, {% endif %}{% endfor %}",
    "{% for x in [[1, [2]]] recursive %}{{ x }}{% if x is iterable %}{{ loop(x) }}{% endif %}{% endfor %}",
    "{% macro line(p) %}- {{ p.name|upper|center(30) }}{% endmacro %}{{ line(product) }}",
    "{{ '%s: %.2f'|format(product.name, product.price) }} {{ '{:>8}'.format(offer.code) }} {{ 'a' ~ 'b' * 3 }}",
    "{% set ns = namespace(n=0) %}{% for i in range(1000) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
    "{{ (customer.name ~ ' ') * 10 }}{{ products|map(attribute='name')|join(', ') }}{{ 'x' * 19000 }}",
]


@pytest.mark.parametrize("source", GOOD_TEMPLATES)
def test_templates_within_the_budget_render_as_before(source: str) -> None:
    assert template_problems(source, unset={}) == []


def test_the_output_is_gathered_as_it_comes_and_stops_at_the_limit() -> None:
    env = template_env()
    assert render_within_budget(env.from_string("{{ 'x' * 20000 }}"), {}) == "x" * MAX_OUTPUT
    with pytest.raises(OverBudget, match="prints more than 20,000 characters"):
        render_within_budget(env.from_string("{{ 'x' * 20000 }}!"), {})


def test_the_time_budget_stops_a_slow_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(BudgetedEnvironment, "clock", staticmethod(lambda: float(next(ticks))))  # 1 s a reading
    env = BudgetedEnvironment()
    with pytest.raises(OverBudget, match="more than 2 seconds"):
        env.from_string("{% for i in range(1000) %}{% endfor %}").render()


def test_each_rendering_has_a_budget_of_its_own() -> None:
    template = template_env().from_string("{% for i in range(990) %}{% for j in range(99) %}{% endfor %}{% endfor %}")
    variables: dict[str, Any] = {}
    for _ in range(3):  # 99,991 steps each (99,000 iterations, 991 calls of range): within the budget every time
        assert render_within_budget(template, variables) == ""

"""The campaign report against a scenario whose every event is known, on SQLite and PostgreSQL: each funnel number,
the breakdowns, the daily series, the A/B statistics and the lift over the holdout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.results.report import Funnel, build, compare, rate
from storage.models import Campaign, Customer, Delivery, Order
from tests.fakes.report_scenario import T0, YAML, add_delivery, add_event, load_scenario


@pytest.fixture
async def scenario(database: str) -> Campaign:
    return await load_scenario()


async def test_every_funnel_number(scenario: Campaign) -> None:
    report = await build(scenario)
    f = report.total
    assert (f.targeted, f.holdout, f.planned, f.sent, f.failed, f.unknown, f.skipped) == (32, 3, 1, 22, 2, 1, 3)
    assert f.skipped_by == {"opted_out": 2, "frequency_cap": 1}
    assert (f.clicked, f.replied, f.converted, f.revenue, f.opted_out) == (3, 2, 3, {"EUR": 180.0}, 1)
    assert f.rates["conversion_rate"] == pytest.approx(3 / 22)
    assert f.rates["revenue_per_message"] == {"EUR": pytest.approx(180 / 22)}
    steps, variants = report.by["step"], report.by["variant"]
    assert (steps["main"].sent, steps["reminder"].sent, steps["reminder"].targeted) == (18, 4, 4)
    assert (variants["A"].sent, variants["A"].converted, variants["A"].revenue) == (14, 2, {"EUR": 80.0})
    assert (variants["B"].sent, variants["B"].converted, variants["B"].failed, variants["B"].skipped) == (8, 1, 2, 3)
    assert report.by["channel"]["slack"].targeted == 15 and report.by["persona"]["runner"].holdout == 3
    days = [(d.day, d.sent, d.converted, d.revenue) for d in report.daily]
    assert days == [
        ("2027-05-03", 15, 0, {}), ("2027-05-04", 3, 2, {"EUR": 150.0}), ("2027-05-05", 4, 1, {"EUR": 30.0})
    ]  # fmt: skip


async def test_variants_and_lift_over_the_holdout(scenario: Campaign) -> None:
    report = await build(scenario, now=T0 + timedelta(days=60))
    assert (report.variants["A"].successes, report.variants["A"].trials) == (2, 10)  # the first step only
    assert (report.variants["B"].successes, report.variants["B"].trials) == (1, 8)
    (ab,) = report.ab
    # a row of the first step is still planned: no verdict while the test can still change
    assert ab.a == "A" and ab.b == "B" and ab.verdict.startswith("window open until")
    # intent to treat: every customer assigned to the first step (also those failed, unknown, skipped, not yet sent)
    assert report.treated and (report.treated.successes, report.treated.trials) == (3, 25)
    assert report.held and (report.held.successes, report.held.trials) == (1, 3)
    assert report.lift and (report.lift.reached.successes, report.lift.reached.trials) == (3, 18)  # per protocol
    assert report.lift.itt.difference == pytest.approx(3 / 25 - 1 / 3)
    await Delivery.filter(campaign_id=scenario.id, status="planned").update(status="skipped", note="after_end")
    report = await build(scenario, now=T0 + timedelta(days=60))
    assert report.ab[0].verdict == "too small to call"
    assert report.lift and report.lift.itt.verdict == "too small to call"
    assert not report.window_open
    assert report.window_until == T0 + timedelta(hours=17, days=7)  # after the last first message (B, to c17)
    data = report.as_dict()
    assert data["funnel"]["sent"] == 22 and data["lift_over_holdout"]["itt"]["verdict"] == "too small to call"


def test_the_statistics_are_statsmodels_and_call_a_clear_winner() -> None:
    a, b = rate(100, 1000), rate(160, 1000)
    assert a.low == pytest.approx(0.0829, abs=1e-4) and a.high == pytest.approx(0.1202, abs=1e-4)  # Wilson
    result = compare("A", a, "B", b)
    assert result.verdict == "B is better" and result.p_value is not None and result.p_value < 0.001
    assert result.lift == pytest.approx(0.6) and result.low is not None and 0.02 < result.low < result.difference  # type: ignore[operator]
    same = compare("A", rate(100, 1000), "B", rate(104, 1000))
    assert same.verdict == "no significant difference" and same.p_value is not None and same.p_value > 0.5
    assert compare("A", rate(0, 0), "B", rate(1, 5)).verdict == "too small to call"


def test_an_empty_funnel_has_no_rates() -> None:
    assert Funnel().rates["click_rate"] is None


async def test_a_recurring_campaign_is_judged_over_every_run_and_not_over_the_runs_follow_ups(database: str) -> None:
    campaign = await Campaign.create(key="weekly", name="Weekly", yaml=YAML, yaml_hash="h", status="running")
    first, second = "run-20270503T0900Z", "run-20270510T0900Z"
    runs = {first: T0, second: T0 + timedelta(days=7)}
    n = 0
    for run, at in runs.items():  # each run: 3 sent A, 2 sent B, 2 held out
        for variant, status in (("A", "sent"),) * 3 + (("B", "sent"),) * 2 + (("A", "holdout"),) * 2:
            n += 1
            sent_at = at if status == "sent" else None
            d = await add_delivery(campaign, n, step=run, variant=variant, status=status, sent_at=sent_at)
            if n in (1, 4, 9):  # an A and a B customer of the first run, an A customer of the second buy
                await add_event("converted", d, at + timedelta(hours=1), total=20.0, order=f"o{n}")
                await Order.create(
                    external_id=f"o{n}", customer_id=d.customer_id, ordered_at=at + timedelta(hours=1), total=20
                )  # type: ignore[attr-defined]
            if n == 6:  # a held-out customer of the first run buys too
                await Order.create(
                    external_id="o6", customer_id=d.customer_id, ordered_at=at + timedelta(hours=2), total=20
                )  # type: ignore[attr-defined]
        # a run's follow-up, sent to its first customer, converts: it is no first message
        nudge = await Delivery.create(campaign=campaign, customer_id=(await Customer.get(external_id=f"c{n - 6}")).id,
                                      address="x", step=f"{run}/nudge", channel="telegram", variant="B",
                                      persona="runner", status="sent", sent_at=at + timedelta(days=3))  # fmt: skip
        await add_event("converted", nudge, at + timedelta(days=3, hours=1), total=20.0, order=f"n{n}")
    report = await build(campaign)
    assert {k: (r.successes, r.trials) for k, r in report.variants.items()} == {"A": (2, 6), "B": (1, 4)}
    assert report.treated is not None and (report.treated.successes, report.treated.trials) == (3, 10)
    assert report.held is not None and (report.held.successes, report.held.trials) == (1, 4)
    assert report.by["step"][f"{first}/nudge"].converted == 1

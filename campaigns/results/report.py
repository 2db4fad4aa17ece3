"""What a campaign did: its funnel (overall and per step, variant, persona and channel), its A/B result, and its
lift over the holdout, and its built-in tests (:mod:`campaigns.results.experiments`: best send time, LLM copy).

The counting is SQL (:mod:`storage.reports`); the statistics are statsmodels': Wilson intervals for each rate,
a two-proportion z-test for each variant against the first and for the treated audience against the holdout,
and Newcombe's interval for the difference. A result is called only when both groups are big enough (at least
``MIN_GROUP`` customers and ``MIN_EVENTS`` conversions between them) and the test is significant at 5%; the
report says so plainly otherwise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from campaigns.file.step_text import RUN_PREFIX, opens_journey
from campaigns.results.attribution import window
from campaigns.results.experiments import Experiment, experiments
from storage import reports
from storage.models import Campaign as CampaignRow
from storage.reports import FunnelCell

ALPHA = 0.05
MIN_GROUP = 100  # customers per group before a difference is called
MIN_EVENTS = 10  # conversions in the two groups together before a difference is called
STAGES = (
    "targeted",
    "holdout",
    "planned",
    "sent",
    "failed",
    "unknown",
    "skipped",
    "clicked",
    "replied",
    "converted",
    "opted_out",
)
DIMENSIONS = ("step", "variant", "persona", "channel", "timing", "copy_arm")


@dataclass
class Funnel:
    """Counts of deliveries at each stage, skipped ones by reason, revenue, and the rates per message sent."""

    targeted: int = 0
    holdout: int = 0
    planned: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    skipped_by: dict[str, int] = field(default_factory=dict)
    clicked: int = 0
    replied: int = 0
    converted: int = 0
    revenue: float = 0.0
    opted_out: int = 0

    def add(self, cell: FunnelCell) -> None:
        """Count one cell of the SQL's grouping."""
        self.targeted += cell.deliveries
        status = cell.status if cell.status in ("holdout", "sent", "failed", "unknown", "skipped") else "planned"
        setattr(self, status, getattr(self, status) + cell.deliveries)
        if status == "skipped":
            reason = cell.note or "other"
            self.skipped_by[reason] = self.skipped_by.get(reason, 0) + cell.deliveries
        self.clicked += cell.clicked
        self.replied += cell.replied
        self.converted += cell.converted
        self.revenue += cell.revenue
        self.opted_out += cell.opted_out

    @property
    def rates(self) -> dict[str, float | None]:
        """Per message sent: click, reply, conversion and opt-out rates; revenue per message."""
        per = (lambda n: n / self.sent) if self.sent else (lambda n: None)
        return {
            "click_rate": per(self.clicked),
            "reply_rate": per(self.replied),
            "conversion_rate": per(self.converted),
            "opt_out_rate": per(self.opted_out),
            "revenue_per_message": per(self.revenue),
        }

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        return asdict(self) | {"rates": self.rates}


@dataclass(frozen=True)
class Rate:
    """A share with its 95% Wilson interval."""

    successes: int
    trials: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Comparison:
    """Group B against group A: the difference of rates with its interval, relative lift, the test, the verdict."""

    a: str
    b: str
    difference: float | None
    low: float | None
    high: float | None
    lift: float | None  # relative: (b - a) / a
    p_value: float | None
    verdict: str  # "too small to call", "no significant difference", "b is better", "b is worse"


@dataclass
class Report:
    """Everything ``chatcast report campaign`` shows."""

    key: str
    name: str
    status: str
    total: Funnel
    by: dict[str, dict[str, Funnel]]
    variants: dict[str, Rate]
    ab: list[Comparison]
    lift: Comparison | None
    treated: Rate | None
    held: Rate | None
    daily: list[tuple[str, int, int, float]]
    attribution_days: int
    experiments: list[Experiment] = field(default_factory=list)  # send_time best, copy_test

    def as_dict(self) -> dict[str, Any]:
        """For ``--json`` and the HTML page."""
        return {
            "campaign": self.key,
            "name": self.name,
            "status": self.status,
            "funnel": self.total.as_dict(),
            "by": {dim: {k: f.as_dict() for k, f in groups.items()} for dim, groups in self.by.items()},
            "variants": {k: asdict(v) for k, v in self.variants.items()},
            "ab": [asdict(c) for c in self.ab],
            "lift_over_holdout": asdict(self.lift) if self.lift else None,
            "treated": asdict(self.treated) if self.treated else None,
            "holdout": asdict(self.held) if self.held else None,
            "daily": [{"day": d, "sent": s, "converted": c, "revenue": r} for d, s, c, r in self.daily],
            "attribution_days": self.attribution_days,
            "experiments": [e.as_dict() for e in self.experiments],
        }


def rate(successes: int, trials: int) -> Rate:
    """``successes`` of ``trials`` with a Wilson interval (None where there were no trials)."""
    if trials <= 0:
        return Rate(successes, trials, None, None, None)
    from statsmodels.stats.proportion import proportion_confint  # heavy (pandas, scipy): loaded when reporting

    low, high = proportion_confint(successes, trials, alpha=ALPHA, method="wilson")
    return Rate(successes, trials, successes / trials, float(low), float(high))


def compare(a_name: str, a: Rate, b_name: str, b: Rate) -> Comparison:
    """B against A: difference and its Newcombe interval, relative lift, two-proportion z-test, and a verdict."""
    if a.trials <= 0 or b.trials <= 0 or a.rate is None or b.rate is None:
        return Comparison(a_name, b_name, None, None, None, None, None, "too small to call")
    difference = b.rate - a.rate
    lift = difference / a.rate if a.rate else None
    events = a.successes + b.successes
    if events == 0 or events == a.trials + b.trials:
        return Comparison(a_name, b_name, difference, None, None, lift, None, "too small to call")
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    low, high = confint_proportions_2indep(
        b.successes, b.trials, a.successes, a.trials, method="newcomb", compare="diff", alpha=ALPHA
    )
    _, p = proportions_ztest([b.successes, a.successes], [b.trials, a.trials])
    p_value = float(p) if not math.isnan(float(p)) else None
    if min(a.trials, b.trials) < MIN_GROUP or events < MIN_EVENTS or p_value is None:
        verdict = "too small to call"
    elif p_value >= ALPHA:
        verdict = "no significant difference"
    else:
        verdict = f"{b_name} is better" if difference > 0 else f"{b_name} is worse"
    return Comparison(a_name, b_name, difference, float(low), float(high), lift, p_value, verdict)


def _by(cells: Iterable[FunnelCell], dimension: str) -> dict[str, Funnel]:
    out: dict[str, Funnel] = defaultdict(Funnel)
    for cell in cells:
        out[getattr(cell, dimension) or "-"].add(cell)
    return dict(sorted(out.items()))


async def build(row: CampaignRow, *, first_step: str = "main") -> Report:
    """The report of one campaign (conversions within its attribution window). The A/B, the lift and the tests
    judge the first step: the main message, or each run of a recurring campaign (each run's groups counted over
    its own span), never the follow-ups."""
    span = window(row)
    cells = await reports.funnel_cells(int(row.id))
    total = Funnel()
    for cell in cells:
        total.add(cell)
    by = {dimension: _by(cells, dimension) for dimension in DIMENSIONS}
    firsts = sorted({c.step for c in cells if c.step.startswith(RUN_PREFIX) and opens_journey(c.step)}) or [first_step]
    first = [c for c in cells if c.step in firsts]
    variants = {name: rate(f.converted, f.sent) for name, f in _by(first, "variant").items() if f.sent}
    names = list(variants)
    ab = [compare(names[0], variants[names[0]], other, variants[other]) for other in names[1:]]
    groups = [await reports.holdout_groups(int(row.id), step, span) for step in firsts]
    sent, held_out = sum(g.sent for g in groups), sum(g.holdout for g in groups)
    treated = rate(sum(g.sent_bought for g in groups), sent) if sent else None
    held = rate(sum(g.holdout_bought for g in groups), held_out) if held_out else None
    lift = compare("holdout", held, "treated", treated) if treated and held else None
    return Report(
        key=row.key,
        name=row.name or row.key,
        status=row.status,
        total=total,
        by=by,
        variants=variants,
        ab=ab,
        lift=lift,
        treated=treated,
        held=held,
        daily=await reports.daily(int(row.id)),
        attribution_days=span.days,
        experiments=experiments(first),
    )

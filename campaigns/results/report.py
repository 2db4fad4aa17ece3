"""What a campaign did: its funnel (overall and per step, variant, persona and channel; customers and messages
apart), its A/B result, its lift over the holdout, its links, and its built-in tests
(:mod:`campaigns.results.experiments`: best send time, LLM copy).

The counting is SQL (:mod:`storage.reports`); the statistics are statsmodels': Wilson intervals for each rate,
a two-proportion z-test for each variant against the baseline and for the assigned audience against the holdout,
Newcombe's interval for each difference, Holm's correction when several variants are compared with one baseline,
and a power calculation for how many recipients a verdict would need.

What the figures mean, the same everywhere:

* **converted**: a customer (or, in a per-message table, a message) credited with at least one order that still
  stands: an order later cancelled, refunded or returned no longer counts, nor does its revenue;
* **revenue**: the credited orders' net amounts, per currency; one amount in the shop's currency only where every
  currency has a rate (``chatcast config rates``), never a silent sum of currencies;
* **opted out**: customers who opted out within the attribution window after a message of the campaign;
* **lift**: intent to treat: every customer assigned to get the first message (whatever became of it: failed,
  blocked, skipped by a cap) against every customer held out; the per-protocol figure (only those reached)
  is beside it, labelled;
* **baseline**: the variant marked ``control: true``, else the first variant listed in the file;
* **verdicts** wait for the attribution window to close: until then the report says "window open until ...".

A result is called only when both groups are big enough (at least ``MIN_GROUP`` customers and ``MIN_EVENTS``
conversions between them) and the test is significant at 5% (after the correction); the report says so plainly
otherwise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from campaigns.file.loader import CampaignError, parse_registered
from campaigns.file.step_text import RUN_PREFIX, opens_journey
from campaigns.results.attribution import window
from campaigns.results.experiments import Experiment, experiments
from storage import reports
from storage.models import Campaign as CampaignRow
from storage.money import convert
from storage.reports import EVERYTHING, Customers, Day, FunnelCell, Groups, Scope

ALPHA = 0.05
POWER = 0.8  # the chance a verdict needs of finding a difference as large as the one seen
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


def _add(into: dict[str, float], amounts: Mapping[str, float]) -> None:
    for currency, amount in amounts.items():
        into[currency] = round(into.get(currency, 0.0) + amount, 2)


def money_text(amounts: Mapping[str, float] | None) -> str:
    """Amounts per currency, each with its unit: ``EUR 1,234.00 + JPY 25,000.00`` (never summed across currencies)."""
    if not amounts:
        return "-"
    return " + ".join(f"{currency or '?'} {amount:,.2f}" for currency, amount in sorted(amounts.items()))


def _per(amounts: Mapping[str, float], n: int) -> dict[str, float] | None:
    return {c: v / n for c, v in amounts.items()} if n else None


@dataclass
class Funnel:
    """Messages at each stage, skipped ones by reason, what they led to, and the rates per message sent."""

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
    snoozed: int = 0
    converted: int = 0
    orders: int = 0
    revenue: dict[str, float] = field(default_factory=dict)  # per currency
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
        self.snoozed += cell.snoozed
        self.converted += cell.converted
        self.orders += cell.orders
        _add(self.revenue, cell.revenue)
        self.opted_out += cell.opted_out

    @property
    def rates(self) -> dict[str, Any]:
        """Per message sent: click, reply, conversion and opt-out rates; revenue per message and average order
        value, per currency."""
        per = (lambda n: n / self.sent) if self.sent else (lambda n: None)
        return {
            "click_rate": per(self.clicked),
            "reply_rate": per(self.replied),
            "conversion_rate": per(self.converted),
            "opt_out_rate": per(self.opted_out),
            "revenue_per_message": _per(self.revenue, self.sent),
            "average_order_value": _per(self.revenue, self.orders) if len(self.revenue) == 1 else None,
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
    """Group B against group A: the difference of rates with its interval, relative lift, the test, the verdict.

    ``p_adjusted`` is the p-value after the correction for several comparisons (the verdict rests on it);
    ``needed`` the customers per group a verdict would need to find a difference as large as this one (80% power),
    ``more`` how many more than the smaller group has."""

    a: str
    b: str
    difference: float | None
    low: float | None
    high: float | None
    lift: float | None  # relative: (b - a) / a
    p_value: float | None
    verdict: str  # "too small to call", "no significant difference", "b is better", "b is worse", "window open ..."
    p_adjusted: float | None = None
    needed: int | None = None
    more: int | None = None


@dataclass
class Lift:
    """The campaign against its holdout, over the same span for both: intent to treat (everyone assigned) and per
    protocol (only those reached), and the revenue per customer it added."""

    assigned: Rate
    holdout: Rate
    reached: Rate
    itt: Comparison
    per_protocol: Comparison
    since: datetime | None
    until: datetime | None
    spent_assigned: dict[str, float]
    spent_holdout: dict[str, float]

    @property
    def incremental_revenue(self) -> dict[str, float]:
        """Per currency: (revenue per assigned customer - revenue per held-out customer) x assigned customers."""
        a, h = self.assigned.trials, self.holdout.trials
        if not a or not h:
            return {}
        currencies = set(self.spent_assigned) | set(self.spent_holdout)
        return {
            c: round((self.spent_assigned.get(c, 0.0) / a - self.spent_holdout.get(c, 0.0) / h) * a, 2)
            for c in sorted(currencies)
        }

    def as_dict(self) -> dict[str, Any]:
        """For JSON."""
        span = {k: (v.isoformat() if v else None) for k, v in (("since", self.since), ("until", self.until))}
        return asdict(self) | span | {"incremental_revenue": self.incremental_revenue}


@dataclass
class Report:
    """Everything ``chatcast report campaign`` shows."""

    key: str
    name: str
    status: str
    total: Funnel
    customers: Customers
    by: dict[str, dict[str, Funnel]]
    variants: dict[str, Rate]  # the first step's conversion per variant, the baseline first
    baseline: str | None
    ab: list[Comparison]
    correction: str | None  # "Holm" when several variants are compared with the baseline
    lift: Lift | None
    daily: list[Day]
    attribution_days: int
    window_until: datetime | None  # when the first step's attribution window closes (None: nothing sent yet)
    window_open: bool
    generated_at: datetime
    shop_currency: str = "USD"
    rates: dict[str, float] = field(default_factory=dict)  # one unit of a currency in the shop's currency
    links: list[tuple[str, int, int]] = field(default_factory=list)  # (URL, clicks, messages clicked)
    links_tracked: bool | None = None  # False: some messages went out untracked; None: nothing sent yet
    scope: Scope = EVERYTHING
    timezone: str = "UTC"
    experiments: list[Experiment] = field(default_factory=list)  # send_time best, copy_test

    @property
    def treated(self) -> Rate | None:
        """Who bought among the customers assigned to get the first message (intent to treat)."""
        return self.lift.assigned if self.lift else None

    @property
    def held(self) -> Rate | None:
        """Who bought among the held-out customers."""
        return self.lift.holdout if self.lift else None

    def in_shop_currency(self, amounts: Mapping[str, float]) -> tuple[float | None, list[str]]:
        """``amounts`` as one amount in the shop's currency, with the currencies that have no rate."""
        return convert(amounts, self.rates, self.shop_currency)

    def per_recipient(self) -> dict[str, float] | None:
        """Revenue per customer reached, per currency."""
        return _per(self.total.revenue, self.customers.reached)

    def customer_rates(self) -> dict[str, float | None]:
        """Per customer reached: who clicked, replied, bought, opted out."""
        c = self.customers
        per = (lambda n: n / c.reached) if c.reached else (lambda n: None)
        return {
            "click_rate": per(c.clicked),
            "reply_rate": per(c.replied),
            "conversion_rate": per(c.converted),
            "opt_out_rate": per(c.opted_out),
        }

    def as_dict(self) -> dict[str, Any]:
        """For ``--json`` and the HTML page."""
        total, missing = self.in_shop_currency(self.total.revenue)
        per = self.per_recipient()
        return {
            "campaign": self.key,
            "name": self.name,
            "status": self.status,
            "generated_at": self.generated_at.isoformat(),
            "scope": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self.scope).items()},
            "timezone": self.timezone,
            "customers": asdict(self.customers) | {"rates": self.customer_rates()},
            "funnel": self.total.as_dict(),
            "revenue": {
                "by_currency": self.total.revenue,
                "shop_currency": self.shop_currency,
                "in_shop_currency": total,
                "missing_rates": missing,
                "per_recipient": per,
                "per_recipient_in_shop_currency": None if total is None or not self.customers.reached
                else total / self.customers.reached,
            },
            "by": {dim: {k: f.as_dict() for k, f in groups.items()} for dim, groups in self.by.items()},
            "variants": {k: asdict(v) for k, v in self.variants.items()},
            "baseline": self.baseline,
            "ab": [asdict(c) for c in self.ab],
            "correction": self.correction,
            "lift_over_holdout": self.lift.as_dict() if self.lift else None,
            "daily": [asdict(d) for d in self.daily],
            "links": [{"url": u, "clicks": n, "messages": m} for u, n, m in self.links],
            "links_tracked": self.links_tracked,
            "attribution_days": self.attribution_days,
            "window_until": self.window_until.isoformat() if self.window_until else None,
            "window_open": self.window_open,
            "experiments": [e.as_dict() for e in self.experiments],
        }  # fmt: skip


def rate(successes: int, trials: int) -> Rate:
    """``successes`` of ``trials`` with a Wilson interval (None where there were no trials)."""
    if trials <= 0:
        return Rate(successes, trials, None, None, None)
    from statsmodels.stats.proportion import proportion_confint  # heavy (pandas, scipy): loaded when reporting

    low, high = proportion_confint(successes, trials, alpha=ALPHA, method="wilson")
    return Rate(successes, trials, successes / trials, float(low), float(high))


def compare(a_name: str, a: Rate, b_name: str, b: Rate, *, p_adjusted: float | None = None) -> Comparison:
    """B against A: difference and its Newcombe interval, relative lift, two-proportion z-test, the customers per
    group a verdict needs, and a verdict (on ``p_adjusted`` when a correction gave one)."""
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
    decisive = p_value if p_adjusted is None else p_adjusted
    if min(a.trials, b.trials) < MIN_GROUP or events < MIN_EVENTS or decisive is None:
        verdict = "too small to call"
    elif decisive >= ALPHA:
        verdict = "no significant difference"
    else:
        verdict = f"{b_name} is better" if difference > 0 else f"{b_name} is worse"
    needed = needed_per_group(a.rate, b.rate)
    more = None if needed is None else max(0, needed - min(a.trials, b.trials))
    return Comparison(
        a_name, b_name, difference, float(low), float(high), lift, p_value, verdict, p_adjusted, needed, more
    )


def needed_per_group(a: float, b: float, alpha: float = ALPHA) -> int | None:
    """Customers per group for a two-sided test at ``alpha`` to find rates ``a`` and ``b`` apart with ``POWER``
    (Cohen's h, normal approximation); None when they are equal (no sample finds a difference that is not there)."""
    if a == b:
        return None
    from scipy.stats import norm
    from statsmodels.stats.proportion import proportion_effectsize

    # the closed form NormalIndPower solves for equal groups: n = 2 ((z(1 - alpha/2) + z(power)) / h)^2
    h = abs(float(proportion_effectsize(b, a)))
    n = 2 * ((float(norm.isf(alpha / 2)) + float(norm.ppf(POWER))) / h) ** 2
    return max(MIN_GROUP, math.ceil(n))


def against_baseline(variants: Mapping[str, Rate], baseline: str) -> tuple[list[Comparison], str | None]:
    """Each variant against the baseline; with more than one comparison, p-values corrected by Holm's method (the
    verdicts rest on the corrected ones). The comparisons and the correction's name (None for one comparison)."""
    others = [name for name in variants if name != baseline]
    plain = [compare(baseline, variants[baseline], name, variants[name]) for name in others]
    if len(plain) < 2:
        return plain, None
    from statsmodels.stats.multitest import multipletests

    tested = [i for i, c in enumerate(plain) if c.p_value is not None]
    adjusted: dict[int, float] = {}
    if tested:
        _, corrected, _, _ = multipletests([plain[i].p_value for i in tested], alpha=ALPHA, method="holm")
        adjusted = {i: float(p) for i, p in zip(tested, corrected, strict=True)}
    return [
        compare(baseline, variants[baseline], name, variants[name], p_adjusted=adjusted.get(i))
        if i in adjusted else plain[i]
        for i, name in enumerate(others)
    ], "Holm"  # fmt: skip


def held_back(comparison: Comparison, until: datetime) -> Comparison:
    """The comparison with its verdict withheld while the attribution window is open."""
    return replace(comparison, verdict=f"window open until {until:%Y-%m-%d %H:%M %Z}".strip())


def _by(cells: Iterable[FunnelCell], dimension: str) -> dict[str, Funnel]:
    out: dict[str, Funnel] = defaultdict(Funnel)
    for cell in cells:
        out[getattr(cell, dimension) or "-"].add(cell)
    return dict(sorted(out.items()))


def variant_order(row: CampaignRow) -> tuple[list[str], str | None]:
    """The variants as the campaign file lists them, and the one marked ``control`` (None when none is)."""
    try:
        campaign = parse_registered(row.yaml)
    except CampaignError:
        return [], None
    names = [v.id for v in campaign.variants]
    return names, next((v.id for v in campaign.variants if v.control), None)


def _sum_groups(groups: list[Groups]) -> Groups:
    assigned_spent: dict[str, float] = {}
    holdout_spent: dict[str, float] = {}
    for g in groups:
        _add(assigned_spent, g.assigned_spent)
        _add(holdout_spent, g.holdout_spent)
    starts = [g.since for g in groups if g.since]
    ends = [g.until for g in groups if g.until]
    return Groups(
        sum(g.assigned for g in groups), sum(g.assigned_bought for g in groups), sum(g.holdout for g in groups),
        sum(g.holdout_bought for g in groups), sum(g.sent for g in groups), sum(g.sent_bought for g in groups),
        min(starts) if starts else None, max(ends) if ends else None, assigned_spent, holdout_spent,
    )  # fmt: skip


async def build(
    row: CampaignRow,
    *,
    first_step: str = "main",
    scope: Scope = EVERYTHING,
    zone: tzinfo = UTC,
    shop_currency: str = "USD",
    rates: Mapping[str, float] | None = None,
    now: datetime | None = None,
) -> Report:
    """The report of one campaign (conversions within its attribution window). The funnel, the breakdowns, the days
    and the links count the messages ``scope`` keeps; the A/B, the lift and the tests judge the whole first step:
    the main message, or each run of a recurring campaign (each run's groups counted over its own span), never the
    follow-ups. Days are ``zone``'s (the shop's)."""
    now = now or datetime.now(UTC)
    span = window(row)
    cid = int(row.id)
    cells = await reports.funnel_cells(cid, scope, window_days=span.days)
    total = Funnel()
    for cell in cells:
        total.add(cell)
    by = {dimension: _by(cells, dimension) for dimension in DIMENSIONS}
    every = cells if not scope.bounded else await reports.funnel_cells(cid, window_days=span.days)
    firsts = sorted({c.step for c in every if c.step.startswith(RUN_PREFIX) and opens_journey(c.step)}) or [first_step]
    first = [c for c in every if c.step in firsts]
    sent_first = _by([c for c in first if c.status == "sent"], "variant")
    converted = {name: f.converted for name, f in sent_first.items()}
    listed, control = variant_order(row)
    order = [v for v in listed if v in sent_first] + [v for v in sent_first if v not in listed]
    variants = {name: rate(converted[name], sent_first[name].sent) for name in order}
    baseline = control if control in variants else (order[0] if order else None)
    if baseline is not None:
        variants = {baseline: variants[baseline]} | {k: v for k, v in variants.items() if k != baseline}
    ab, correction = against_baseline(variants, baseline) if baseline is not None else ([], None)
    sizes = {step: {"sent": 0, "holdout": 0, "other": 0} for step in firsts}
    for cell in first:
        if not (cell.status == "skipped" and cell.note.startswith("suppressed:")):
            group = "holdout" if cell.status == "holdout" else "sent" if cell.status == "sent" else "other"
            sizes[cell.step][group] += cell.deliveries
    groups = _sum_groups([await reports.holdout_groups(cid, step, span, sizes[step]) for step in firsts])
    pending = await reports.open_rows(cid, firsts)
    until = groups.until
    window_open = pending > 0 or until is None or now < until
    lift = None
    if groups.holdout and groups.assigned:
        assigned = rate(groups.assigned_bought, groups.assigned)
        held = rate(groups.holdout_bought, groups.holdout)
        reached = rate(groups.sent_bought, groups.sent)
        lift = Lift(
            assigned, held, reached, compare("holdout", held, "assigned", assigned),
            compare("holdout", held, "reached", reached), groups.since, until,
            groups.assigned_spent, groups.holdout_spent,
        )  # fmt: skip
    if window_open:
        shown = until or now + span
        ab = [held_back(c, shown.astimezone(zone)) for c in ab]
        if lift is not None:
            lift.itt = held_back(lift.itt, shown.astimezone(zone))
            lift.per_protocol = held_back(lift.per_protocol, shown.astimezone(zone))
    return Report(
        key=row.key,
        name=row.name or row.key,
        status=row.status,
        total=total,
        customers=await reports.customers(cid, scope, window_days=span.days, opening=firsts),
        by=by,
        variants=variants,
        baseline=baseline,
        ab=ab,
        correction=correction,
        lift=lift,
        daily=await reports.daily(cid, zone, scope),
        attribution_days=span.days,
        window_until=until,
        window_open=window_open,
        generated_at=now,
        shop_currency=shop_currency,
        rates=dict(rates or {}),
        links=await reports.link_clicks(cid, scope),
        links_tracked=await reports.links_tracked(cid),
        scope=scope,
        timezone=getattr(zone, "key", str(zone)),
        experiments=experiments(first),
    )


@dataclass(frozen=True)
class Summary:
    """One campaign on the overview: customers reached, rates per customer reached, revenue, lift and verdict."""

    key: str
    name: str
    status: str
    reached: int
    messages: int
    click_rate: float | None
    conversion_rate: float | None
    opt_out_rate: float | None
    revenue: dict[str, float]
    revenue_in_shop_currency: float | None
    revenue_per_recipient: float | None  # in the shop's currency (None: a currency without a rate, or no one reached)
    lift: float | None  # intent to treat: difference of purchase rates, assigned minus held out
    verdict: str  # the lift's verdict; "no holdout" without one

    def as_dict(self) -> dict[str, Any]:
        """For JSON and CSV."""
        return asdict(self)


async def overview(
    *, shop_currency: str = "USD", rates: Mapping[str, float] | None = None, now: datetime | None = None
) -> list[Summary]:
    """Every marketing campaign, newest first: the figures ``report campaign`` gives, counted for all at once."""
    now = now or datetime.now(UTC)
    rows = {int(r.id): r for r in await CampaignRow.filter(kind="marketing")}
    spans = {cid: window(row) for cid, row in rows.items()}
    totals = await reports.campaign_totals({cid: span.days for cid, span in spans.items()})
    held = set(await reports.with_holdout())
    found = []
    for t in totals:
        lift: Comparison | None = None
        if t.id in held:
            steps = await reports.steps(t.id)
            firsts = [s for s in steps if s.startswith(RUN_PREFIX) and opens_journey(s)] or ["main"]
            groups = _sum_groups([await reports.holdout_groups(t.id, step, spans[t.id]) for step in firsts])
            if groups.holdout and groups.assigned:
                lift = compare(
                    "holdout", rate(groups.holdout_bought, groups.holdout),
                    "assigned", rate(groups.assigned_bought, groups.assigned),
                )  # fmt: skip
                if await reports.open_rows(t.id, firsts) or groups.until is None or now < groups.until:
                    lift = held_back(lift, groups.until or now)
        per = (lambda n, t=t: n / t.reached) if t.reached else (lambda n: None)
        money, _ = convert(t.revenue, rates or {}, shop_currency)
        summary = Summary(
            t.key, t.name, t.status, t.reached, t.messages, per(t.clicked), per(t.converted), per(t.opted_out),
            t.revenue, money, None if money is None or not t.reached else money / t.reached,
            None if lift is None else lift.difference, "no holdout" if lift is None else lift.verdict,
        )  # fmt: skip
        found.append(summary)
    return found

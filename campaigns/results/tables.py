"""A report as flat tables (lists of rows with the same keys): what ``--csv`` writes, one file per table, so that a
marketer's spreadsheet gets every figure the report shows. Money keeps its currency: one column per currency."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from campaigns.results.report import DIMENSIONS, Comparison, Funnel, Rate, Report, Summary

Row = dict[str, Any]


def _rate(prefix: str, r: Rate | None) -> Row:
    if r is None:
        return {f"{prefix}": None, f"{prefix}_low": None, f"{prefix}_high": None}
    return {prefix: r.rate, f"{prefix}_low": r.low, f"{prefix}_high": r.high}


def _comparison(c: Comparison | None) -> Row:
    keys = ("difference", "low", "high", "lift", "p_value", "p_adjusted", "verdict", "needed", "more")
    if c is None:
        return dict.fromkeys(("difference", "difference_low", "difference_high", "lift", "p", "p_adjusted", "verdict",
                              "needed_per_group", "more_needed"))  # fmt: skip
    values = [getattr(c, k) for k in keys]
    names = ("difference", "difference_low", "difference_high", "lift", "p", "p_adjusted", "verdict",
             "needed_per_group", "more_needed")  # fmt: skip
    return dict(zip(names, values, strict=True))


def _money(prefix: str, amounts: dict[str, float] | None, currencies: Iterable[str]) -> Row:
    return {f"{prefix}_{c}": (amounts or {}).get(c, 0.0) for c in currencies}


def _funnel_row(label: str, name: str, f: Funnel, currencies: list[str]) -> Row:
    r = f.rates
    return {
        label: name, "messages": f.targeted, "held_out": f.holdout, "not_sent_yet": f.planned, "sent": f.sent,
        "failed": f.failed, "unknown": f.unknown, "skipped": f.skipped, "clicked": f.clicked, "replied": f.replied,
        "snoozed": f.snoozed, "converted": f.converted, "orders": f.orders, "opted_out": f.opted_out,
        "click_rate": r["click_rate"], "conversion_rate": r["conversion_rate"], "opt_out_rate": r["opt_out_rate"],
        **_money("revenue", f.revenue, currencies),
        **_money("revenue_per_message", r["revenue_per_message"], currencies),
    }  # fmt: skip


def report_tables(report: Report) -> dict[str, list[Row]]:
    """Every table of the campaign report, by file name."""
    currencies = sorted(report.total.revenue)
    c, f = report.customers, report.total
    rates = report.customer_rates()

    def stage(name: str, customers: int | None, messages: int, share: float | None = None) -> Row:
        return {"stage": name, "customers": customers, "messages": messages, "per_customer_reached": share}

    funnel = [
        stage("assigned", c.assigned, f.targeted - f.holdout),
        stage("held_out", c.holdout, f.holdout),
        stage("not_sent_yet", None, f.planned),
        stage("reached", c.reached, f.sent),
        stage("failed", None, f.failed),
        stage("unknown", None, f.unknown),
        *(stage(f"skipped: {why}", None, n) for why, n in sorted(f.skipped_by.items())),
        stage("clicked", c.clicked, f.clicked, rates["click_rate"]),
        stage("replied", c.replied, f.replied, rates["reply_rate"]),
        stage("snoozed", None, f.snoozed),
        stage("converted", c.converted, f.converted, rates["conversion_rate"]),
        stage("opted_out", c.opted_out, f.opted_out, rates["opt_out_rate"]),
    ]
    tables: dict[str, list[Row]] = {"funnel": funnel}
    tables["revenue"] = [
        {"currency": cur, "revenue": amount, "per_customer_reached": amount / c.reached if c.reached else None}
        for cur, amount in sorted(f.revenue.items())
    ]
    for dimension in DIMENSIONS:
        tables[f"by_{dimension}"] = [
            _funnel_row(dimension, name, g, currencies) for name, g in report.by[dimension].items()
        ]
    against = {cmp.b: cmp for cmp in report.ab}
    tables["variants"] = [
        {"variant": name, "baseline": name == report.baseline, "sent": r.trials, "converted": r.successes,
         **_rate("conversion", r), **_comparison(against.get(name)), "correction": report.correction}
        for name, r in report.variants.items()
    ]  # fmt: skip
    lift = report.lift
    tables["lift"] = (
        []
        if lift is None
        else [
            {
                "analysis": "intent to treat",
                "group": "assigned",
                "customers": lift.assigned.trials,
                "bought": lift.assigned.successes,
                **_rate("rate", lift.assigned),
                **_comparison(lift.itt),
            },
            {
                "analysis": "per protocol",
                "group": "reached",
                "customers": lift.reached.trials,
                "bought": lift.reached.successes,
                **_rate("rate", lift.reached),
                **_comparison(lift.per_protocol),
            },
            {
                "analysis": "baseline",
                "group": "held out",
                "customers": lift.holdout.trials,
                "bought": lift.holdout.successes,
                **_rate("rate", lift.holdout),
                **_comparison(None),
            },
        ]
    )
    days = sorted({cur for d in report.daily for cur in d.revenue} | set(currencies))
    tables["daily"] = [
        {f"day_{report.timezone}": d.day, "sent": d.sent, "orders": d.converted, **_money("revenue", d.revenue, days)}
        for d in report.daily
    ]
    tables["links"] = [{"link": url, "clicks": n, "messages_clicked": m} for url, n, m in report.links]
    return tables


def overview_table(found: Iterable[Summary]) -> list[Row]:
    """The campaigns overview as rows (revenue: one column per currency)."""
    summaries = list(found)
    currencies = sorted({c for s in summaries for c in s.revenue})
    rows = []
    for s in summaries:
        row = s.as_dict()
        row.pop("revenue")
        rows.append(row | _money("revenue", s.revenue, currencies))
    return rows

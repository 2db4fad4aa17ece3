"""``chatcast report``: a campaign's funnel, A/B result and lift (tables, JSON, an HTML page); what customers said
(feedback, and the reviews per product)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chatcast.console import UserError, fail, out, run, state

if TYPE_CHECKING:
    from assistant.feedback import FeedbackGroup
    from assistant.reviews import ProductReviews
    from campaigns.results.experiments import Experiment
    from campaigns.results.report import Comparison, Rate, Report

report_app = typer.Typer(help="Reports: a campaign's funnel, A/B and lift; what customers said.", no_args_is_help=True)


@report_app.command("feedback")
def feedback(
    ctx: typer.Context,
    days: Annotated[int | None, typer.Option(min=1, help="Only the last N days (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Feedback per product and per campaign: how much, how it feels, what people praise and complain about."""
    from assistant.feedback import report
    from storage import db

    settings = state(ctx).settings
    since = datetime.now(UTC) - timedelta(days=days) if days else None

    async def go() -> dict[str, list[FeedbackGroup]]:
        async with db.database(settings.db_url):
            return await report(since=since)

    groups = run(ctx, go())
    if as_json:
        out.print_json(json.dumps({k: [asdict(g) for g in v] for k, v in groups.items()}))
        return
    if not any(groups.values()):
        out.print(
            "No feedback yet: it comes from answers to the feedback question after an order, and from replies"
            " to campaign messages."
        )
        return
    for kind, title in (("products", "product (SKU)"), ("campaigns", "campaign")):
        if not groups[kind]:
            continue
        table = Table(title=f"Feedback per {title}")
        for column in (title, "messages", "mean sentiment", "positive", "negative", "themes (praise / complaints)"):
            table.add_column(column, justify="right" if column in ("messages", "positive", "negative") else "left")
        for group in groups[kind]:
            themes = "; ".join(f"{t.theme} {t.praise}/{t.complaints}" for t in group.themes[:4]) or "-"
            table.add_row(
                escape(group.key),
                str(group.count),
                f"{group.mean_sentiment:+.2f}",
                str(group.positive),
                str(group.negative),
                escape(themes),
            )
        out.print(table)
        for group in groups[kind][:5]:
            for theme in group.themes[:2]:
                for quote in theme.examples:
                    out.print(f"  {escape(group.key)} · {escape(theme.theme)}: “{escape(quote)}”")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _interval(r: Rate | None) -> str:
    if r is None or r.rate is None:
        return "-"
    return f"{r.rate:.1%} [{r.low:.1%}, {r.high:.1%}]"


@report_app.command("campaign")
def campaign(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The campaign id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML page with charts.")
    ] = None,
) -> None:
    """A campaign's funnel (per step, variant, persona and channel), its A/B result and its lift over the holdout."""
    from campaigns.results.report import build
    from chatcast.pages import render_report
    from storage import campaigns as campaign_rows
    from storage import db

    settings = state(ctx).settings

    async def go() -> Report:
        async with db.database(settings.db_url):
            row = await campaign_rows.by_key(key)
            if row is None:
                raise UserError(f"no campaign {key!r} (launch it first)")
            return await build(row)

    report = run(ctx, go())
    if html is not None:
        try:
            html.write_text(render_report(report), encoding="utf-8")
        except OSError as exc:
            raise typer.Exit(fail(f"cannot write {html}: {exc.strerror or exc}")) from None
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
        return
    _print_report(report)
    if html is not None:
        out.print(f"Wrote {html}")


def _print_report(report: Report) -> None:
    from campaigns.results.report import DIMENSIONS

    f = report.total
    table = Table(
        "stage",
        "customers",
        "per message sent",
        title=f"{report.name} ({report.key}): {report.status}",
        title_justify="left",
    )
    rates = f.rates
    rows: list[tuple[str, int, float | None]] = [
        ("targeted", f.targeted, None),
        ("holdout", f.holdout, None),
        ("not sent yet", f.planned, None),
        ("sent", f.sent, None),
        ("failed", f.failed, None),
        ("unknown", f.unknown, None),
    ]
    rows += [(f"skipped: {reason}", n, None) for reason, n in sorted(f.skipped_by.items())]
    rows += [
        ("clicked", f.clicked, rates["click_rate"]),
        ("replied", f.replied, rates["reply_rate"]),
        ("converted", f.converted, rates["conversion_rate"]),
        ("opted out after", f.opted_out, rates["opt_out_rate"]),
    ]
    for stage, n, share in rows:
        table.add_row(stage, f"{n:,}", _pct(share))
    per = rates["revenue_per_message"]
    table.add_row("revenue", f"{f.revenue:,.2f}", "-" if per is None else f"{per:,.2f}")
    out.print(table)
    for dimension in DIMENSIONS:
        groups = report.by[dimension]
        if len(groups) < 2 and dimension != "variant":
            continue
        t = Table(
            dimension,
            "targeted",
            "sent",
            "clicked",
            "replied",
            "converted",
            "conversion",
            "revenue",
            title=f"By {dimension}",
            title_justify="left",
        )
        for name, g in groups.items():
            t.add_row(
                escape(name),
                f"{g.targeted:,}",
                f"{g.sent:,}",
                f"{g.clicked:,}",
                f"{g.replied:,}",
                f"{g.converted:,}",
                _pct(g.rates["conversion_rate"]),
                f"{g.revenue:,.2f}",
            )
        out.print(t)
    if report.variants:
        t = Table("variant", "sent", "converted", "conversion [95% CI]", title="A/B (first step)", title_justify="left")
        for name, r in report.variants.items():
            t.add_row(escape(name), f"{r.trials:,}", f"{r.successes:,}", _interval(r))
        out.print(t)
    for c in report.ab:
        out.print(f"  {escape(c.b)} vs {escape(c.a)}: {_comparison(c)}")
    if report.lift is not None:
        out.print(
            f"Lift over the holdout (bought within {report.attribution_days} days): treated "
            f"{_interval(report.treated)}, holdout {_interval(report.held)}: {_comparison(report.lift)}"
        )
    else:
        out.print("Lift over the holdout: no holdout (set audience.holdout to measure it).")
    for e in report.experiments:
        _print_experiment(e)


def _print_experiment(e: Experiment) -> None:
    t = Table(
        "per message sent", f"{e.control} (control)", e.treated, f"{e.treated} vs {e.control}",
        title=f"Test: {e.name} ({e.treated} {e.sent[e.treated]:,} sent, {e.control} {e.sent[e.control]:,} sent)",
        title_justify="left",
    )  # fmt: skip
    for metric, arms in e.rates.items():
        label = "engaged (clicked or replied)" if metric == "engaged" else metric
        t.add_row(label, _interval(arms[e.control]), _interval(arms[e.treated]), _comparison(e.comparisons[metric]))
    out.print(t)
    if e.fallbacks:
        out.print(f"  {e.fallbacks:,} messages of the {e.treated} arm fell back to the template (counted in its arm)")
    out.print(f"  Decision ({e.name}): {e.decision}")


def _comparison(c: Comparison) -> str:
    if c.difference is None:
        return c.verdict
    interval = "" if c.low is None else f" [{c.low * 100:+.1f}, {c.high * 100:+.1f}]"  # type: ignore[operator]
    lift = "" if c.lift is None else f", lift {c.lift:+.0%}"
    p = "" if c.p_value is None else f", p = {c.p_value:.3g}"
    return f"{c.difference * 100:+.1f} points{interval}{lift}{p}: {c.verdict}"


@report_app.command("reviews")
def reviews_report(
    ctx: typer.Context,
    sku: Annotated[list[str] | None, typer.Option("--sku", help="Only this product (repeat for more).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Per product: reviews and feedback, average rating, sentiment, and the themes people praise and complain of."""
    from assistant.reviews import summaries
    from storage import db

    settings = state(ctx).settings

    async def go() -> list[ProductReviews]:
        async with db.database(settings.db_url):
            return await summaries(sku or None)

    found = run(ctx, go())
    if as_json:
        data = [asdict(r) | {"praised": r.praised, "complaints": r.complaints} for r in found]
        out.print_json(json.dumps(data))
        return
    if not found:
        out.print("No reviews yet: load them with chatcast import reviews FILE.")
        return
    table = Table(title="Reviews per product (SKU)")
    for column in (
        "SKU",
        "reviews",
        "feedback",
        "rating",
        "sentiment",
        "positive",
        "negative",
        "praised",
        "complaints",
    ):
        table.add_column(column, justify="left" if column in ("SKU", "praised", "complaints") else "right")
    for r in found:
        table.add_row(
            escape(r.sku), str(r.reviews), str(r.feedback), "-" if r.rating is None else f"{r.rating:.1f}",
            f"{r.mean_sentiment:+.2f}", str(r.positive), str(r.negative),
            escape(", ".join(r.praised) or "-"), escape(", ".join(r.complaints) or "-"),
        )  # fmt: skip
    out.print(table)

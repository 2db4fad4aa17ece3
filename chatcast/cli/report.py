"""``chatcast report``: a campaign's funnel, A/B result and lift (tables, JSON, an HTML page); what customers said
(feedback, and the reviews per product)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

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


def _day(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2027-05-31") from None


@report_app.command("campaign")
def campaign(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The campaign id.")],
    since: Annotated[
        str | None, typer.Option("--from", help="Only messages sent on or after this day (the shop's time zone).")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="Only messages sent on or before this day.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only messages on this channel.")] = None,
    persona: Annotated[str | None, typer.Option(help="Only messages to this persona.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML page with charts.")
    ] = None,
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help="Also write every table as a CSV file into this folder.")
    ] = None,
) -> None:
    """A campaign's funnel (customers and messages; per step, variant, persona and channel), its A/B result, its
    lift over the holdout, its links and days."""
    from campaigns.results.report import build
    from chatcast.pages import render_report
    from storage import campaigns as campaign_rows
    from storage import db, money
    from storage.reports import Scope

    settings = state(ctx).settings
    zone = settings.zone
    start = _day(since).replace(tzinfo=zone) if since else None
    stop = (_day(until) + timedelta(days=1)).replace(tzinfo=zone) if until else None
    if start and stop and stop <= start:
        raise typer.Exit(fail(f"--to {until} is before --from {since}"))
    scope = Scope(start, stop, channel, persona)

    async def go() -> Report:
        async with db.database(settings.db_url):
            row = await campaign_rows.by_key(key)
            if row is None:
                raise UserError(f"no campaign {key!r} (launch it first)")
            rates = await money.rates()
            return await build(row, scope=scope, zone=zone, shop_currency=settings.shop_currency, rates=rates)

    report = run(ctx, go())
    if html is not None:
        try:
            html.write_text(render_report(report), encoding="utf-8")
        except OSError as exc:
            raise typer.Exit(fail(f"cannot write {html}: {exc.strerror or exc}")) from None
    if csv_dir is not None:
        from campaigns.results.tables import report_tables

        written = _write_tables(csv_dir, report_tables(report))
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
        return
    _print_report(report)
    if html is not None:
        out.print(f"Wrote {html}")
    if csv_dir is not None:
        out.print(f"Wrote {len(written)} CSV files to {csv_dir}: {', '.join(p.name for p in written)}")


@report_app.command("campaigns")
def campaigns(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the table to this CSV file.")] = None,
) -> None:
    """Every campaign at a glance: customers reached, click, conversion and opt-out rates, revenue per recipient,
    lift over the holdout and its verdict."""
    from campaigns.results.report import Summary, money_text, overview
    from storage import db, money

    settings = state(ctx).settings

    async def go() -> list[Summary]:
        async with db.database(settings.db_url):
            return await overview(shop_currency=settings.shop_currency, rates=await money.rates())

    found = run(ctx, go())
    if csv_file is not None:
        from campaigns.results.tables import overview_table

        _write_tables(csv_file.parent if str(csv_file.parent) else Path("."), {csv_file.stem: overview_table(found)})
    if as_json:
        out.print_json(json.dumps([s.as_dict() for s in found]))
        return
    if not found:
        out.print("No campaigns yet: launch one with chatcast campaign launch FILE.")
        return
    table = Table(
        "campaign", "status", "reached", "click rate", "conversion", "opt-out", "revenue",
        f"per recipient ({settings.shop_currency})", "lift (ITT)", "verdict",
        title="Campaigns (rates per customer reached)", title_justify="left",
    )  # fmt: skip
    for s in found:
        table.add_row(
            escape(s.key), s.status, f"{s.reached:,}", _pct(s.click_rate), _pct(s.conversion_rate),
            _pct(s.opt_out_rate), escape(money_text(s.revenue)),
            "-" if s.revenue_per_recipient is None else f"{s.revenue_per_recipient:,.2f}",
            "-" if s.lift is None else f"{s.lift * 100:+.1f} points", escape(s.verdict),
        )  # fmt: skip
    out.print(table)
    if csv_file is not None:
        out.print(f"Wrote {csv_file}")


def _write_tables(folder: Path, tables: dict[str, list[dict[str, object]]]) -> list[Path]:
    """Each table as ``folder/NAME.csv`` (cells neutralised for spreadsheets); the files written."""
    from storage.spreadsheet_csv import SpreadsheetWriter

    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in tables.items():
            path = folder / f"{name}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                columns = list(rows[0]) if rows else ["(empty)"]
                writer = SpreadsheetWriter(handle, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
            written.append(path)
    except OSError as exc:
        raise typer.Exit(fail(f"cannot write to {folder}: {exc.strerror or exc}")) from None
    return written


def _print_report(report: Report) -> None:
    from campaigns.results.report import DIMENSIONS, money_text

    f, c = report.total, report.customers
    scope = report.scope
    bounds = []
    if scope.since or scope.until:
        since = f"{scope.since:%Y-%m-%d}" if scope.since else "the start"
        until = f"{scope.until - timedelta(days=1):%Y-%m-%d}" if scope.until else "today"
        bounds.append(f"messages sent {since} to {until}")
    bounds += [f"{what} {value}" for what, value in (("channel", scope.channel), ("persona", scope.persona)) if value]
    title = f"{report.name} ({report.key}): {report.status}" + (f" · {', '.join(bounds)}" if bounds else "")
    rates = report.customer_rates()
    table = Table("stage", "customers", "per customer reached", "messages", title=title, title_justify="left")
    rows: list[tuple[str, int | None, float | None, int | None]] = [
        ("assigned (not held out)", c.assigned, None, f.targeted - f.holdout),
        ("held out", c.holdout, None, f.holdout),
        ("not sent yet", None, None, f.planned),
        ("reached (sent)", c.reached, None, f.sent),
        ("failed", None, None, f.failed),
        ("unknown", None, None, f.unknown),
    ]
    rows += [(f"skipped: {reason}", None, None, n) for reason, n in sorted(f.skipped_by.items())]
    rows += [
        ("clicked", c.clicked, rates["click_rate"], f.clicked),
        ("replied", c.replied, rates["reply_rate"], f.replied),
        ("snoozed", None, None, f.snoozed),
        ("converted", c.converted, rates["conversion_rate"], f.converted),
        (f"opted out within {report.attribution_days} days", c.opted_out, rates["opt_out_rate"], f.opted_out),
    ]
    for stage, customers, share, messages in rows:
        table.add_row(
            stage,
            "" if customers is None else f"{customers:,}",
            _pct(share),
            "" if messages is None else f"{messages:,}",
        )
    out.print(table)
    total, missing = report.in_shop_currency(f.revenue)
    shown = money_text(f.revenue)
    if len(f.revenue) > 1 or (f.revenue and report.shop_currency not in f.revenue):
        shown += (
            f" = {report.shop_currency} {total:,.2f}" if total is not None
            else f" (no rate for {', '.join(missing)}: set one with chatcast config rates)"
        )  # fmt: skip
    out.print(f"Revenue ({f.orders:,} orders credited, cancellations and refunds taken off): {shown}")
    per = report.per_recipient()
    if per:
        out.print(f"Revenue per customer reached: {money_text(per)}")
    if report.links_tracked is False:
        out.print("Link clicks are not measured: these messages went out without tracked links.")
    if report.links:
        t = Table("link", "clicks", "messages clicked", title="Clicks per link", title_justify="left")
        for url, clicks, messages in report.links:
            t.add_row(escape(url), f"{clicks:,}", f"{messages:,}")
        out.print(t)
    for dimension in DIMENSIONS:
        groups = report.by[dimension]
        if len(groups) < 2 and dimension != "variant":
            continue
        t = Table(
            dimension, "messages", "sent", "clicked", "replied", "converted", "conversion", "revenue",
            "per message", "order value", title=f"By {dimension} (messages)", title_justify="left",
        )  # fmt: skip
        for name, g in groups.items():
            r = g.rates
            t.add_row(
                escape(name), f"{g.targeted:,}", f"{g.sent:,}", f"{g.clicked:,}", f"{g.replied:,}", f"{g.converted:,}",
                _pct(r["conversion_rate"]), money_text(g.revenue), money_text(r["revenue_per_message"]),
                money_text(r["average_order_value"]),
            )  # fmt: skip
        out.print(t)
    if report.variants:
        t = Table(
            "variant", "sent", "converted", "conversion [95% CI]", f"vs {report.baseline} (points) [95% CI]", "lift",
            "p" if report.correction is None else f"p ({report.correction})", "verdict",
            title=f"A/B (first step; baseline {report.baseline})", title_justify="left",
        )  # fmt: skip
        against = {cmp.b: cmp for cmp in report.ab}
        for name, arm in report.variants.items():
            cmp = against.get(name)
            p = None if cmp is None else (cmp.p_adjusted if cmp.p_adjusted is not None else cmp.p_value)
            t.add_row(
                escape(name) + (" (baseline)" if name == report.baseline else ""), f"{arm.trials:,}",
                f"{arm.successes:,}", _interval(arm), "" if cmp is None else _difference(cmp),
                "" if cmp is None or cmp.lift is None else f"{cmp.lift:+.0%}",
                "" if p is None else f"{p:.3g}", "" if cmp is None else escape(cmp.verdict),
            )  # fmt: skip
        out.print(t)
        for cmp in report.ab:
            if cmp.more:
                out.print(
                    f"  {escape(cmp.b)} vs {escape(cmp.a)}: a verdict on a difference this size needs about"
                    f" {cmp.needed:,} customers per variant ({cmp.more:,} more)"
                )
        if report.correction:
            out.print(f"  p-values corrected for {len(report.ab)} comparisons with the baseline ({report.correction}).")
    lift = report.lift
    if lift is not None:
        out.print(
            f"Lift over the holdout (bought within {report.attribution_days} days of the first message): assigned"
            f" {_interval(lift.assigned)} vs held out {_interval(lift.holdout)}: {_comparison(lift.itt)}"
        )
        out.print(
            f"  per protocol (only the customers reached): {_interval(lift.reached)}: {_comparison(lift.per_protocol)}"
        )
        if lift.incremental_revenue:
            out.print(f"  incremental revenue (assigned vs held out): {money_text(lift.incremental_revenue)}")
    else:
        out.print("Lift over the holdout: no holdout (set audience.holdout to measure it).")
    if report.window_open:
        until = f"{report.window_until.astimezone(report_zone(report)):%Y-%m-%d %H:%M}" if report.window_until else "-"
        out.print(f"The attribution window is open until {until}: no verdict before then.")
    if report.daily:
        t = Table(f"day ({report.timezone})", "sent", "orders", "revenue", title="Per day", title_justify="left")
        for d in report.daily:
            t.add_row(d.day, f"{d.sent:,}", f"{d.converted:,}", money_text(d.revenue))
        out.print(t)
    for e in report.experiments:
        _print_experiment(e)
    out.print(f"[dim]Generated {report.generated_at.astimezone(report_zone(report)):%Y-%m-%d %H:%M %Z}[/]")


def report_zone(report: Report) -> ZoneInfo:
    """The time zone the report's days are in."""
    from storage.timezones import parse_timezone

    return parse_timezone(report.timezone)


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


def _difference(c: Comparison) -> str:
    if c.difference is None:
        return "-"
    interval = "" if c.low is None else f" [{c.low * 100:+.1f}, {c.high * 100:+.1f}]"  # type: ignore[operator]
    return f"{c.difference * 100:+.1f}{interval}"


def _comparison(c: Comparison) -> str:
    if c.difference is None:
        return c.verdict
    lift = "" if c.lift is None else f", lift {c.lift:+.0%}"
    p = "" if c.p_value is None else f", p = {c.p_value:.3g}"
    return f"{_difference(c)} points{lift}{p}: {c.verdict}"


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

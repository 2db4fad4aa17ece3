"""``chatcast campaign status``: where a launched campaign stands, and the follow-ups still ahead of it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from chatcast.console import UserError, out, run, state


def status_command(ctx: typer.Context, campaign: Annotated[str, typer.Argument(help="The campaign id.")]) -> None:
    """Where the campaign stands: its status, its rows by step and status, and the follow-ups still ahead."""
    from rich.table import Table

    from storage import campaigns as campaign_rows
    from storage import db

    settings = state(ctx).settings

    async def go() -> tuple[str, dict[tuple[str, str], int], list[str]]:
        async with db.database(settings.db_url):
            row = await campaign_rows.by_key(campaign)
            if row is None:
                raise UserError(f"no campaign {campaign!r} (launch it first)")
            now = datetime.now(UTC)
            ahead = await _ahead(row.yaml, int(row.id), row.status, now) if row.kind == "marketing" else []
            if row.next_run_at is not None and row.status not in ("done", "cancelled"):
                ahead.append(f"the next run is due {_when(row.next_run_at)}")
            return row.status, await campaign_rows.counts(row.id), await _skipped(int(row.id)) + ahead

    status, counts, ahead = run(ctx, go())
    table = Table("step", "status", "rows", title=f"{campaign}: {status}", title_justify="left")
    for (step, row_status), n in sorted(counts.items()):
        table.add_row(step, row_status, f"{n:,}")
    out.print(table)
    for line in ahead:
        out.print(escape(line), soft_wrap=True)


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


async def _skipped(campaign_id: int) -> list[str]:
    """Lines on the skipped rows: how many for each reason; for rows parked because a workspace uninstalled the app,
    which workspaces have it no more, and that nobody's consent changed."""
    from bots.registry import names
    from storage import campaigns as campaign_rows
    from storage.installations import PARKED, inactive_workspaces

    reasons = await campaign_rows.skipped(campaign_id)
    if not reasons:
        return []
    lines = ["skipped: " + ", ".join(f"{reason} {n:,}" for reason, n in sorted(reasons.items()))]
    parked = reasons.get(PARKED, 0)
    if parked:
        gone = [
            f"{channel} {workspace.strip(':')}, {why}" + (f" since {_when(since)}" if since else "")
            for channel in names()
            for workspace, why, since in await inactive_workspaces(channel)
        ]
        if gone:
            lines.append(
                f"{parked:,} parked: their workspace no longer has the app (without it now: {'; '.join(gone)}); "
                "nobody's consent changed; once the app is reinstalled, rows due from then on go out, these stay "
                "skipped"
            )
        else:
            lines.append(
                f"{parked:,} parked: their workspace had uninstalled the app (installed again since); nobody's "
                "consent changed; these rows stay skipped"
            )
    return lines


async def _ahead(yaml: str, campaign_id: int, status: str, now: datetime) -> list[str]:
    """Lines on the follow-ups still ahead: per step, open windows and when they close; when the last can fire."""
    from campaigns.file.loader import CampaignError, parse_campaign
    from campaigns.timing import windows

    try:
        campaign = parse_campaign(yaml)
    except CampaignError:
        return []
    if status in ("done", "cancelled"):
        return [f"no step is ahead: the campaign is {status}"] if campaign.follow_ups else []
    steps = await windows.ahead(campaign, campaign_id, now=now)
    live = {s.journey for s in steps if s.open or s.due or s.waiting}  # a recurring campaign's runs still going
    if not live:
        recurring = campaign.schedule is not None and campaign.schedule.cron
        return [f"no follow-up{' of the runs so far' if recurring else ''} can fire any more"] if steps else []
    lines, earlier, journey = ["follow-ups ahead:"], False, ""
    for step in (s for s in steps if s.journey in live):
        if step.journey != journey:
            earlier, journey = False, step.journey
        when = ", ".join(w if isinstance(w, str) else f"any of {' or '.join(w.any)}" for w in step.follow_up.when)
        parts = []
        if step.open == 1 and step.last_close:
            parts.append(f"1 customer with an open window: it can fire {_when(step.last_close)}")
        elif step.open and step.next_close and step.last_close:
            parts.append(
                f"{step.open:,} customers with an open window:"
                f" the next can fire {_when(step.next_close)}, the last {_when(step.last_close)}"
            )
        if step.due:
            parts.append(f"{step.due:,} whose window closed: planned at the next sweep")
        if step.waiting:
            parts.append(f"{step.waiting:,} more once their {step.previous} message is sent")
        said = "; ".join(parts) or (f"once the {step.previous} messages go out" if earlier else "nothing ahead")
        earlier = earlier or bool(parts)
        lines.append(
            f"  {step.step} ({step.follow_up.after} after {step.previous}{', when ' + when if when else ''}): {said}"
        )
    last, later = windows.last_fire([s for s in steps if s.journey in live], now)
    if last is not None:
        lines.append(f"the last follow-up can fire {'not before ' if later else 'at '}{_when(last)}")
    return lines

"""A rehearsal for people: the launch, each day's sends per step, the funnel per step and variant, one message per
persona, step and variant with how many got it, where it all ran and how long it took (the JSON form for
machines is :mod:`chatcast.rehearsal_outcome`'s)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich import box
from rich.markup import escape
from rich.table import Table

from bots.registry import titles
from campaigns.results.report import money_text
from chatcast.console import out
from chatcast.rehearsal import Rehearsal
from chatcast.rehearsal_outcome import Outcome, days, steps

DOING = {"click": "clicked", "snooze": "pressed Not now", "reply": "wrote back", "buy": "bought",
         "stop": "unsubscribed", "block": "blocked the bot"}  # fmt: skip


def _rank(order: list[str], step: str) -> int:
    return order.index(step) if step in order else len(order)


def _at(moment: datetime | None, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M %Z}" if moment else "-"


def print_rehearsal(o: Outcome, zone: ZoneInfo, database: str, shown_path: Callable[[Path], str]) -> None:
    """The rehearsal as tables, for marketers."""
    r, p = o.rehearsal, o.rehearsal.plan
    span = (r.end - r.start) / timedelta(days=1)
    copied = "copied" if o.scratch.source == "sqlite" else "its tables read into a SQLite file"
    out.print(
        f"[bold]Rehearsal of {escape(r.campaign.id)}[/] over {span:g} simulated days from"
        f" {r.start.astimezone(zone):%a %Y-%m-%d %H:%M %Z}, on a scratch copy of {escape(database)} ({copied} in"
        f" {o.scratch.seconds:.1f} s), through the {titles()} sandboxes on loopback: nothing reached"
        " a customer.",
        soft_wrap=True,
    )
    written = ", ".join(f"{k} {v:,}" for k, v in sorted(r.write.by_source.items())) or "none"
    if r.first_run is not None:
        cron = r.campaign.schedule.cron if r.campaign.schedule else ""
        out.print(f"launch: recurring ({cron}), first run {_at(r.first_run, zone)}", soft_wrap=True)
    else:
        out.print(
            f"launch: {p.planned:,} planned, {p.holdout:,} held out, {p.no_consent:,} without consent,"
            f" {p.unreachable:,} unreachable, {p.suppressed:,} suppressed (unhappy);"
            f" {r.write.written:,} messages written ({written})",
            soft_wrap=True,
        )
    did = ", ".join(f"{r.did[kind]:,} {what}" for kind, what in DOING.items() if r.did[kind])
    out.print(
        f"simulated customers (seed {r.seed}): {r.blocked_before:,} had blocked the bot before the launch;"
        f" readers: {did or 'none did anything'}",
        soft_wrap=True,
    )
    paused = [k for k in r.paused if not k.startswith(f"{r.campaign.id}~")]
    notes = [f"{r.campaign.id} as launched before is set aside"] if r.set_aside else []
    notes += [f"paused: {', '.join(paused)}"] if paused else []
    if notes:
        out.print(f"[dim]in the copy only: {escape('; '.join(notes))}[/]", soft_wrap=True)
    _per_day(r, zone)
    _funnel(o)
    _messages(o)
    _end(o, zone, shown_path)


def _per_day(r: Rehearsal, zone: ZoneInfo) -> None:
    names = steps(r)
    table = Table(f"day ({zone.key})", *names, title="Messages sent per day", title_justify="left")
    for n, day in enumerate(days(r, zone), start=1):
        counts = [sum(c for (d, s, _), c in r.sent.items() if d == day and s == step) for step in names]
        table.add_row(f"{n} {day:%a %Y-%m-%d}", *(f"{c:,}" if c else "-" for c in counts))
    out.print(table)


def _funnel(o: Outcome) -> None:
    columns = ("sent", "clicked", "replied", "bought", "revenue", "opted out", "blocked")
    table = Table("step", "variant", *columns, box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False,
                  title="Funnel per step and variant (customers)", title_justify="left")  # fmt: skip
    for column in table.columns[2:]:
        column.justify = "right"
    order = steps(o.rehearsal)
    held = 0
    for (step, variant), f in sorted(o.funnel.items(), key=lambda kv: (_rank(order, kv[0][0]), kv[0])):
        blocked = sum(n for why, n in f.skipped_by.items() if why in ("blocked", "deactivated"))
        cells = (f.sent, f.clicked, f.replied, f.converted)
        table.add_row(step, variant or "-", *(f"{n:,}" for n in cells), money_text(f.revenue), f"{f.opted_out:,}",
                      f"{blocked:,}")  # fmt: skip
        held += f.holdout
    out.print(table)
    if held:
        out.print(
            f"held out: {held:,} customers got nothing (the simulated customers act only on messages, so the"
            " rehearsal shows no lift over them)",
            soft_wrap=True,
        )


def _messages(o: Outcome) -> None:
    order = steps(o.rehearsal)
    out.print("[bold]What each persona got[/] (the first message of each persona, step and variant, as sent)")
    for m in sorted(o.shown, key=lambda m: (m.persona, _rank(order, m.step), m.variant)):
        out.print(f"[bold]{escape(m.persona)}[/] · {escape(m.step)} · variant {escape(m.variant)} · sent to {m.sent:,}")
        lines = [line.strip() for line in m.text.splitlines() if line.strip()]
        for line in lines:
            out.print(f"  {escape(line)}", soft_wrap=True)


def _end(o: Outcome, zone: ZoneInfo, shown_path: Callable[[Path], str]) -> None:
    r = o.rehearsal
    found = sum(f for f, _ in r.delivered.values())
    sent = sum(s for _, s in r.delivered.values())
    per = ", ".join(f"{ch} {f:,} of {s:,}" for ch, (f, s) in r.delivered.items()) or "none sent"
    out.print(f"sandboxes: {found:,} of the {sent:,} messages sent are in their chats ({per})", soft_wrap=True)
    ahead = [f"{r.waiting:,} messages wait for their time, the first due {_at(r.first_due, zone)}"] if r.waiting else []
    ahead += [f"its last follow-up can fire {_at(r.last_fire, zone)} at the earliest"] if r.last_fire else []
    ahead += [f"its next run is {_at(r.next_run, zone)}"] if r.next_run else []
    if r.done_at is not None:
        state = f"done at {_at(r.done_at, zone)}: no step can send any more"
    elif ahead:
        state = f"{r.status} at the end: {'; '.join(ahead)} (a later --start or more --days shows them)"
    else:
        state = f"{r.status} at the end"
    out.print(f"{escape(r.campaign.id)}: {escape(state)}", soft_wrap=True)
    if o.kept is not None:
        path = shown_path(o.scratch.path)
        out.print(
            f"kept the scratch copy: {escape(path)}; look closer with"
            f" `CHATCAST_DATABASE_URL=sqlite://{escape(path)} chatcast report campaign {escape(r.campaign.id)}`",
            soft_wrap=True,
        )
    else:
        out.print("the scratch copy is deleted", soft_wrap=True)
    out.print(f"rehearsed in {r.seconds + o.scratch.seconds:.1f} s ({r.moments:,} moments of simulated time)")

"""What a rehearsal says, read back from its scratch copy: the outcome, and all of it as JSON for machines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from campaigns.results.report import Funnel
from chatcast.rehearsal import Rehearsal
from storage.rehearsals import Shown
from storage.scratch import Scratch


@dataclass
class Outcome:
    """A rehearsal with what was read back from its copy: the funnel per step and variant, one message each."""

    scratch: Scratch
    rehearsal: Rehearsal
    funnel: dict[tuple[str, str], Funnel]
    shown: list[Shown]
    kept: Path | None


def days(r: Rehearsal, zone: ZoneInfo) -> list[date]:
    """The shop's calendar days the rehearsal spans."""
    first, last = r.start.astimezone(zone).date(), (r.end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def steps(r: Rehearsal) -> list[str]:
    """The campaign's steps in order, then any other (a recurring campaign's runs)."""
    named = ["main", *(f.id for f in r.campaign.follow_ups)]
    return named + sorted({step for _, step, _ in r.sent} - set(named))


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def as_json(o: Outcome, zone: ZoneInfo) -> dict[str, Any]:
    """Everything the rehearsal says, for machines."""
    r, p = o.rehearsal, o.rehearsal.plan
    first = r.start.astimezone(zone).date()
    return {
        "campaign": r.campaign.id,
        "name": r.campaign.name,
        "start": _when(r.start),
        "end": _when(r.end),
        "seed": r.seed,
        "scratch": {
            "source": o.scratch.source,
            "seconds": round(o.scratch.seconds, 3),
            "rows": o.scratch.rows,
            "kept": str(o.scratch.path) if o.kept is not None else None,
        },
        "launch": {
            "audience": p.audience,
            "excluded": p.excluded,
            "no_consent": p.no_consent,
            "unreachable": p.unreachable,
            "planned": p.planned,
            "holdout": p.holdout,
            "suppressed": p.suppressed,
            "written": r.write.written,
            "written_by": r.write.by_source,
        },
        "set_aside": r.set_aside,
        "paused": r.paused,
        "customers": {"blocked_before": r.blocked_before, "did": dict(r.did)},
        "sent_per_day": [
            {"date": day.isoformat(), "day": (day - first).days + 1, "step": step, "variant": variant, "sent": n}
            for (day, step, variant), n in sorted(r.sent.items())
        ],
        "funnel": [{"step": s, "variant": v, **f.as_dict()} for (s, v), f in sorted(o.funnel.items())],
        "messages": [vars(m) for m in o.shown],
        "sandboxes": {ch: {"in_chat": found, "sent": sent} for ch, (found, sent) in r.delivered.items()},
        "first_run": _when(r.first_run),
        "status": r.status,
        "done_at": _when(r.done_at),
        "ahead": {
            "waiting": r.waiting,
            "first_due": _when(r.first_due),
            "last_follow_up": _when(r.last_fire),
            "next_run": _when(r.next_run),
        },
        "moments": r.moments,
        "seconds": round(r.seconds, 3),
    }

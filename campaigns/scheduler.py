"""The scheduler: APScheduler 3.11 (the stable line), behind this one module.

``AsyncIOScheduler`` with the memory job store: its jobs are module-level functions taking plain values, and
they are rebuilt at every start. The database stays the source of truth for what is due (``delivery.due_at``,
read by the dispatcher's claims), so a restart loses nothing; a job whose time passed while the process was
down fires once at start (``coalesce`` with a generous ``misfire_grace_time``).

Jobs now: housekeeping, every ``housekeeping_seconds`` - claims older than ``claim_timeout`` whose dispatcher
is gone become ``unknown`` (never resent), campaigns whose rows are all final become ``done``, and order notices
recorded but not yet queued (a crash between the two) are queued; and, when
a writer is given, follow-ups every ``follow_up_seconds`` - each running campaign's follow-up steps are swept
(:mod:`campaigns.followups`) and their new rows written and queued for the dispatcher.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from campaigns import recurring
from campaigns.compose import write_copy
from campaigns.definition import Campaign
from campaigns.due import Span
from campaigns.followups import sweep
from campaigns.loader import CampaignError, parse_campaign
from campaigns.notices import queue_notices
from campaigns.suppression import Unhappy
from campaigns.writer import CopyWriter
from segments.definitions import Definitions
from storage import outbox
from storage.models import Campaign as CampaignRow

log = logging.getLogger(__name__)

MISFIRE_GRACE = 3600  # seconds: a job missed while the process was down still runs, once, at start


async def housekeeping(
    claim_timeout_seconds: float, shop_zone: ZoneInfo | None = None, channels: Sequence[str] | None = None
) -> dict[str, int]:
    """Expire dead claims, close finished campaigns, queue order notices a crash left recorded (on ``channels``,
    those served, where the customer has a chat there); what it did."""
    now = datetime.now(UTC)
    notices = await queue_notices(shop_zone, now, channels)
    stale = await outbox.recover(older_than=now - timedelta(seconds=claim_timeout_seconds))
    if stale:
        log.warning("housekeeping: %d deliveries claimed by a dispatcher that stopped answering are now unknown", stale)
    done = await outbox.finish_campaigns(now)
    if done:
        log.info("housekeeping: campaigns %s are done", ", ".join(map(str, done)))
    return {"unknown": stale, "done": len(done), "notices": notices}


async def _running(job: str, **filters: Any) -> AsyncIterator[tuple[CampaignRow, Campaign]]:
    """The running campaigns (``filters`` narrow them) with their registered files, in id order."""
    for row in await CampaignRow.filter(status="running", kind="marketing", **filters).order_by("id"):
        try:
            campaign = parse_campaign(row.yaml, f"{row.key}.yaml")
        except CampaignError as exc:  # registered YAML was valid when launched; say so rather than stop the job
            log.error("%s: campaign %s no longer parses: %s", job, row.key, exc)
            continue
        yield row, campaign


async def follow_ups(
    writer: CopyWriter, definitions: Definitions, shop_name: str, shop_url: str | None = None
) -> dict[str, int]:
    """Sweep every running campaign's follow-ups and write the rows planned; rows planned per campaign key."""
    now = datetime.now(UTC)
    planned: dict[str, int] = {}
    async for row, campaign in _running("follow-ups"):
        if not campaign.follow_ups:
            continue
        result = await sweep(campaign, int(row.id), now=now)
        for step_id, count in result.planned.items():
            if count:
                await write_copy(
                    campaign,
                    int(row.id),
                    definitions,
                    writer,
                    as_of=now,
                    step=step_id,
                    shop_name=shop_name,
                    shop_url=shop_url,
                )
        if result.total:
            log.info(
                "follow-ups: campaign %s: %s in %d slices, longest %.2f s",
                row.key, result.planned, result.slices, result.longest,
            )  # fmt: skip
        planned[row.key] = result.total
    return planned


async def recurring_runs(
    writer: CopyWriter,
    definitions: Definitions,
    shop_name: str,
    shop_zone: ZoneInfo,
    quiet: Span | None,
    unhappy: Unhappy | None = None,
    shop_url: str | None = None,
) -> dict[str, str]:
    """Plan and write every due run of the running recurring campaigns; the step planned per campaign key."""
    now = datetime.now(UTC)
    done: dict[str, str] = {}
    async for row, campaign in _running("recurring", next_run_at__lte=now):
        ran = await recurring.run_due(
            campaign, int(row.id), definitions, writer, now=now, shop_zone=shop_zone, quiet=quiet, shop_name=shop_name,
            unhappy=unhappy, shop_url=shop_url,
        )  # fmt: skip
        if ran:
            step, planned, written = ran
            log.info(
                "recurring: campaign %s run %s: %d planned, %d written", row.key, step, planned.planned, written.written
            )
            done[row.key] = step
    return done


@dataclass(frozen=True)
class PeriodicJob:
    """A job the root adds (the assistant's): a module-level coroutine function, its interval and arguments."""

    id: str
    func: Callable[..., Awaitable[Any]]
    seconds: float
    args: tuple[Any, ...] = ()


class Scheduler:
    """The process's scheduler and its jobs."""

    def __init__(
        self,
        *,
        claim_timeout: timedelta = timedelta(minutes=10),
        housekeeping_seconds: float = 30.0,
        writer: CopyWriter | None = None,
        definitions: Definitions | None = None,
        shop_name: str = "our shop",
        follow_up_seconds: float = 60.0,
        shop_zone: ZoneInfo | None = None,
        quiet: Span | None = None,
        recurring_seconds: float = 15.0,
        extra_jobs: Sequence[PeriodicJob] = (),
        unhappy: Unhappy | None = None,
        channels: Sequence[str] | None = None,
        shop_url: str | None = None,
    ) -> None:
        self.extra_jobs, self.unhappy, self.channels = tuple(extra_jobs), unhappy, channels
        self.shop_zone, self.quiet, self.recurring_seconds = shop_zone or ZoneInfo("UTC"), quiet, recurring_seconds
        self.claim_timeout, self.housekeeping_seconds = claim_timeout, housekeeping_seconds
        self.writer, self.definitions, self.shop_name, self.shop_url = writer, definitions, shop_name, shop_url
        self.follow_up_seconds = follow_up_seconds
        self._started = False
        self._scheduler = self._new()

    @staticmethod
    def _new() -> AsyncIOScheduler:
        return AsyncIOScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE, "max_instances": 1}
        )

    def start(self) -> None:
        """Add the jobs (afresh: the memory store starts empty) and start; the first housekeeping runs now.
        After a shutdown it starts a fresh APScheduler (theirs cannot start twice)."""
        if self._scheduler.running:
            return
        if self._started:
            self._scheduler = self._new()
        self._started = True
        self._scheduler.add_job(
            housekeeping,
            IntervalTrigger(seconds=self.housekeeping_seconds, timezone=UTC),
            args=[self.claim_timeout.total_seconds(), self.shop_zone, self.channels],
            id="housekeeping",
            next_run_time=datetime.now(UTC),
            replace_existing=True,
        )
        if self.writer is not None and self.definitions is not None:
            self._scheduler.add_job(
                follow_ups,
                IntervalTrigger(seconds=self.follow_up_seconds, timezone=UTC),
                args=[self.writer, self.definitions, self.shop_name, self.shop_url],
                id="follow_ups",
                next_run_time=datetime.now(UTC),
                replace_existing=True,
            )
            self._scheduler.add_job(
                recurring_runs,
                IntervalTrigger(seconds=self.recurring_seconds, timezone=UTC),
                args=[
                    self.writer,
                    self.definitions,
                    self.shop_name,
                    self.shop_zone,
                    self.quiet,
                    self.unhappy,
                    self.shop_url,
                ],
                id="recurring",
                next_run_time=datetime.now(UTC),
                replace_existing=True,
            )
        for job in self.extra_jobs:
            self._scheduler.add_job(
                job.func,
                IntervalTrigger(seconds=job.seconds, timezone=UTC),
                args=list(job.args),
                id=job.id,
                next_run_time=datetime.now(UTC),
                replace_existing=True,
            )
        self._scheduler.start()

    @property
    def running(self) -> bool:
        """Whether its jobs are running in this process."""
        return bool(self._scheduler.running)

    def shutdown(self) -> None:
        """Stop without waiting for running jobs (their work is idempotent and re-runs at the next start)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def describe(self) -> dict[str, Any]:
        """The jobs and when each runs next, for /health."""
        return {
            "running": self._scheduler.running,
            "jobs": {
                job.id: job.next_run_time.isoformat() if job.next_run_time else None
                for job in self._scheduler.get_jobs()
            },
        }

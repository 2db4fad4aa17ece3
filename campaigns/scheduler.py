"""The scheduler: APScheduler 3.11 (the stable line), behind this one module.

``AsyncIOScheduler`` with the memory job store: its jobs (:mod:`campaigns.jobs`, and the root's extra ones) are
module-level functions taking plain values, and they are rebuilt at every start. The database stays the source of
truth for what is due (``delivery.due_at``, read by the dispatcher's claims), so a restart loses nothing; a job
whose time passed while the process was down fires once at start (``coalesce`` with a generous
``misfire_grace_time``). :meth:`Scheduler.run_once` runs every job once, in order, without APScheduler: the
burst mode of ``chatcast serve --once``.

Jobs: housekeeping every ``housekeeping_seconds``; reconciliation of unknown deliveries every
``reconcile_seconds`` when channels that can look their messages up are given (``reconcilers``); and, when a
writer is given, follow-ups every ``follow_up_seconds`` and recurring runs every ``recurring_seconds`` (see
:mod:`campaigns.jobs`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from campaigns.audience.suppression import Unhappy
from campaigns.content.writer import CopyWriter
from campaigns.jobs import follow_ups, housekeeping, reconcile_unknown, recurring_runs
from campaigns.timing.due import Span
from segments.definitions import Definitions
from storage.timezones import UTC_ZONE

RECONCILE_SECONDS = 60.0  # how often unknown deliveries are looked up (each pass keeps to the platforms' limits)
MISFIRE_GRACE = 3600  # seconds: a job missed while the process was down still runs, once, at start
log = logging.getLogger(__name__)


async def _stoppable(func: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run a job; a shutdown that cancels it mid-run is no error (its work is idempotent: it runs again)."""
    try:
        return await func(*args)
    except asyncio.CancelledError:
        log.info("job %s stopped mid-run by the shutdown: it runs again at the next start", func.__name__)
        return None


@dataclass(frozen=True)
class PeriodicJob:
    """A scheduled job: a module-level coroutine function, its interval and arguments (the campaigns' own, and
    those the root adds: the assistant's). Every job also takes a keyword ``now``: the moment it runs at (None,
    the default, for the wall clock); :meth:`Scheduler.run_once` passes the moment it is given."""

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
        shop_url: str | None = None,
        follow_up_seconds: float = 60.0,
        shop_zone: ZoneInfo | None = None,
        quiet: Span | None = None,
        recurring_seconds: float = 15.0,
        extra_jobs: Sequence[PeriodicJob] = (),
        unhappy: Unhappy | None = None,
        channels: Sequence[str] | None = None,
        reconcilers: Mapping[str, object] | None = None,
        reconcile_seconds: float = RECONCILE_SECONDS,
    ) -> None:
        self.reconcilers, self.reconcile_seconds = dict(reconcilers or {}), reconcile_seconds
        self.extra_jobs, self.unhappy, self.channels = tuple(extra_jobs), unhappy, channels
        self.shop_zone, self.quiet, self.recurring_seconds = shop_zone or UTC_ZONE, quiet, recurring_seconds
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

    def jobs(self) -> list[PeriodicJob]:
        """Every job this scheduler runs, in the order ``run_once`` runs them."""
        jobs = [
            PeriodicJob(
                "housekeeping",
                housekeeping,
                self.housekeeping_seconds,
                (self.claim_timeout.total_seconds(), self.shop_zone, self.channels),
            )
        ]
        if self.reconcilers:
            settle = self.claim_timeout.total_seconds()
            jobs.append(PeriodicJob("reconcile", reconcile_unknown, self.reconcile_seconds, (self.reconcilers, settle)))
        if self.writer is not None and self.definitions is not None:
            jobs.append(
                PeriodicJob(
                    "follow_ups",
                    follow_ups,
                    self.follow_up_seconds,
                    (self.writer, self.definitions, self.shop_name, self.shop_zone, self.quiet, self.shop_url),
                )
            )
            jobs.append(
                PeriodicJob(
                    "recurring",
                    recurring_runs,
                    self.recurring_seconds,
                    (
                        self.writer,
                        self.definitions,
                        self.shop_name,
                        self.shop_zone,
                        self.quiet,
                        self.unhappy,
                        self.shop_url,
                    ),
                )
            )
        return [*jobs, *self.extra_jobs]

    def start(self) -> None:
        """Add the jobs (afresh: the memory store starts empty) and start; each first runs now. After a shutdown
        it starts a fresh APScheduler (theirs cannot start twice)."""
        if self._scheduler.running:
            return
        if self._started:
            self._scheduler = self._new()
        self._started = True
        for job in self.jobs():
            self._scheduler.add_job(
                _stoppable,
                IntervalTrigger(seconds=job.seconds, timezone=UTC),
                args=[job.func, *job.args],
                id=job.id,
                name=job.id,
                next_run_time=datetime.now(UTC),
                replace_existing=True,
            )
        self._scheduler.start()

    async def run_once(self, now: datetime | None = None) -> dict[str, Any]:
        """Run every job once, one after the other (housekeeping first), at ``now`` (a rehearsal's simulated
        moment; None: the wall clock): what each returned, by job id."""
        at = {} if now is None else {"now": now}
        return {job.id: await job.func(*job.args, **at) for job in self.jobs()}

    @property
    def running(self) -> bool:
        """Whether its jobs are running in this process."""
        return bool(self._scheduler.running)

    def shutdown(self) -> None:
        """Stop without waiting for running jobs: they are cancelled (their work is idempotent and re-runs at the
        next start), which is logged as such, not as an error."""
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

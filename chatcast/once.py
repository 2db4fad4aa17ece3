"""``chatcast serve --once``: the burst mode. The scheduler's jobs run once, at the current time; then everything
due now is sent through the configured channels; then the process exits, saying what it did.

A shop can run Chatcast from cron this way (no bot receives anything meanwhile: use ``serve`` for that), and
tests make days pass with it: every moment comes from ``datetime.now(UTC)``, never from the event loop's
clock, so a wall clock travelled by time-machine is the one it reads. The jobs are ``serve``'s
(:class:`campaigns.scheduler.Scheduler`): housekeeping, the follow-up sweep with due times and copy, recurring
runs, order notices, and with role ``all`` the assistant's; they run only when this process can take the
scheduler lease (another process that holds it runs them itself). The sending is ``serve``'s dispatcher with
the same rates, caps and suppression, drained until nothing due is left: it waits out a retry due within a
minute; a later one, or a row a frequency cap holds, is left to the next run and counted in the summary.
:func:`burst` is that work on a given scheduler and dispatcher at a given moment: ``chatcast campaign rehearse``
runs it at every moment of its simulated clock.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from campaigns import jobs
from campaigns.delivery.dispatcher import Dispatcher, DispatchStats
from campaigns.launch import RETRY_WAIT
from campaigns.scheduler import Scheduler
from chatcast.engine import build_writer, campaign_dispatcher, campaign_scheduler, open_channels
from chatcast.links import tracked_links
from chatcast.settings import Settings
from storage import campaigns as campaign_rows
from storage import db, outbox
from storage.lease import Lease

WORDS = {"handoffs": "hand-offs given back to the assistant", "feedback": "feedback questions asked"}


@dataclass
class OnceReport:
    """What one burst did: when, as whom, on which channels; each job's result (None: another process holds
    the scheduler lease); the dispatcher's totals; the campaigns that became done."""

    at: datetime
    worker: str
    channels: list[str]
    jobs: dict[str, Any] | None
    stats: DispatchStats
    done: list[str] = field(default_factory=list)
    waiting: int = 0  # rows due but waiting for a retry or a frequency cap, left to the next run


def default_worker() -> str:
    """This burst's claim name: host and process, so it never takes a running ``serve``'s leftovers for its own."""
    return f"once-{socket.gethostname()}-{os.getpid()}"


@dataclass
class Burst:
    """One burst's work: each job's result (None: another process holds the scheduler lease), the dispatcher's
    totals so far, the campaigns that became done."""

    jobs: dict[str, Any] | None
    stats: DispatchStats
    done: list[str]


async def burst(
    scheduler: Scheduler,
    dispatcher: Dispatcher,
    *,
    lease: Lease | None = None,
    now: datetime | None = None,
    wait: bool = True,
    max_wait: float | None = None,
) -> Burst:
    """The scheduler's jobs once (when ``lease`` is ours, or without one), then every send due, then the campaigns
    those sends finished: at ``now`` (None: the wall clock; a rehearsal passes its simulated moment, and the
    dispatcher runs on that clock too). ``wait`` False leaves rows waiting for a retry (or a frequency cap) to a
    later burst instead of waiting them out; ``max_wait`` waits out only those due within so many seconds."""
    running = set(await campaign_rows.keys("running"))
    results = None
    if lease is None or await lease.try_acquire():
        try:
            results = await scheduler.run_once(now)
        finally:
            if lease is not None:
                await lease.release()
    stats = await dispatcher.drain(wait=wait, max_wait=max_wait)
    await jobs.finish(dispatcher.clock())  # the sends may have been the last a campaign's steps owed
    done = [key for key in await campaign_rows.keys("done") if key in running]
    return Burst(results, stats, done)


async def run_once(settings: Settings, *, worker: str | None = None, role: str = "all") -> OnceReport:
    """Run the scheduler's jobs once, send what is due, close what finished; the report."""
    async with db.database(settings.db_url), open_channels(settings) as channels:
        scheduler = campaign_scheduler(settings, build_writer(settings), channels, role=role, reconcile=True)
        name = worker or default_worker()
        dispatcher = campaign_dispatcher(settings, channels, worker=name, links=await tracked_links(settings))
        try:
            did = await burst(scheduler, dispatcher, lease=Lease(settings.db_url), max_wait=RETRY_WAIT)
        finally:
            await dispatcher.close()
        now = datetime.now(UTC)
        waiting = await outbox.due_waiting(now, sorted(channels))
        return OnceReport(now, name, sorted(channels), did.jobs, did.stats, did.done, waiting)


def summary(report: OnceReport) -> list[str]:
    """The report in lines for people."""
    channels = ", ".join(report.channels) or "none"
    lines = [f"serve --once at {report.at:%Y-%m-%d %H:%M} UTC as {report.worker}: channels {channels}"]
    if report.jobs is None:
        lines.append("jobs: not run here (another process holds the scheduler lease and runs them)")
    else:
        for job, result in report.jobs.items():
            lines.append(_job_line(job, result))
    s = report.stats
    lines.append(
        f"sent {s.sent:,}, failed {s.failed:,}, skipped {s.skipped:,}, unknown {s.unknown:,}, requeued {s.requeued:,}"
    )
    if s.paused:
        lines.append(f"paused by the error ceiling: campaigns {', '.join(map(str, s.paused))}")
    if report.waiting:
        lines.append(
            f"{report.waiting:,} due messages wait for a retry or a frequency cap: a later run sends them when they"
            " may go"
        )
    lines.append(f"campaigns done: {', '.join(report.done) or 'none'}")
    return lines


def _job_line(job: str, result: Any) -> str:
    if job == "housekeeping":
        return (
            f"housekeeping: {result['unknown']:,} stale claims now unknown, {result['notices']:,} order notices queued,"
            f" {result['done']:,} campaigns done"
        )
    if job == "reconcile":
        return (
            f"unknown deliveries looked up: {result['sent']:,} found delivered (now sent), {result['requeued']:,} not"
            f" delivered and queued again, {result['failed']:,} not delivered (failed), {result['unknown']:,} still"
            " unknown"
        )
    if job == "follow_ups":
        planned = ", ".join(f"{key} {n:,}" for key, n in result.items() if n)
        return f"follow-ups planned: {planned or 'none'}"
    if job == "recurring":
        return f"recurring runs planned: {', '.join(f'{key} {step}' for key, step in result.items()) or 'none'}"
    return f"{WORDS.get(job, job)}: {result}"

"""The scheduler's lifecycle: a stop that cuts a running job short is part of a graceful shutdown, not an error."""

from __future__ import annotations

import asyncio
import logging

import pytest

from campaigns.scheduler import PeriodicJob, Scheduler


class Only(Scheduler):
    """A scheduler with only the jobs given (no housekeeping, which needs a database)."""

    def jobs(self) -> list[PeriodicJob]:
        return list(self.extra_jobs)


async def test_a_stop_that_cuts_a_running_job_short_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    started, stopped = asyncio.Event(), asyncio.Event()

    async def sweep() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # a long job, still running when the service stops
        finally:
            stopped.set()

    scheduler = Only(extra_jobs=[PeriodicJob("sweep", sweep, 3600)])
    with caplog.at_level(logging.INFO):
        scheduler.start()
        await asyncio.wait_for(started.wait(), 10)
        scheduler.shutdown()
        await asyncio.wait_for(stopped.wait(), 10)
        await asyncio.sleep(0)  # one turn of the loop: the executor reports the job's end in a done-callback
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "job sweep stopped mid-run by the shutdown: it runs again at the next start" in caplog.text

"""The scheduled jobs: module-level coroutine functions taking plain values, so any process can run them.

:class:`campaigns.scheduler.Scheduler` runs them on intervals in ``chatcast serve``, and all at once in
``chatcast serve --once``. Each reloads what it needs from the database, takes the time from its ``now``
argument (a rehearsal's simulated clock), else from ``datetime.now(UTC)``, and is safe to run again, late, or
twice.

* housekeeping: claims of a dispatcher that stopped answering become ``unknown`` (never resent), order notices
  recorded but not queued (a crash between the two) are queued, finished campaigns become ``done``;
* reconcile: the ``unknown`` rows of the channels that can look their messages up (Slack) become ``sent`` or,
  certainly not delivered, are queued again or ``failed`` (:mod:`campaigns.delivery.reconcile`);
* follow-ups: each running campaign's follow-ups (each run's, in a recurring one) are swept
  (:mod:`campaigns.timing.followups`), their new rows given
  their due time in each customer's zone (the schedule's window and local time, the shop's quiet hours) and
  their copy, and queued for the dispatcher;
* recurring runs: the due run of each running cron campaign is planned, timed and written.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from campaigns import launch
from campaigns.audience.suppression import Unhappy
from campaigns.content.compose import write_copy
from campaigns.content.writer import CopyWriter
from campaigns.delivery.reconcile import reconcile
from campaigns.file.definition import Campaign
from campaigns.file.loader import CampaignError, parse_registered
from campaigns.notices.queue import queue_notices
from campaigns.timing.due import Span, set_due_times
from campaigns.timing.followups import sweep
from campaigns.timing.windows import close_if_done
from segments.definitions import Definitions
from storage import outbox
from storage.models import Campaign as CampaignRow
from storage.timezones import UTC_ZONE

log = logging.getLogger(__name__)


async def _running(job: str, **filters: Any) -> AsyncIterator[tuple[CampaignRow, Campaign]]:
    """The running campaigns (``filters`` narrow them) with their registered files, in id order."""
    for row in await CampaignRow.filter(status="running", kind="marketing", **filters).order_by("id"):
        try:
            campaign = parse_registered(row.yaml, f"{row.key}.yaml")
        except CampaignError as exc:  # registered YAML was valid when launched; say so rather than stop the job
            log.error("%s: campaign %s no longer parses: %s", job, row.key, exc)
            continue
        yield row, campaign


async def finish(now: datetime) -> list[str]:
    """Close the running campaigns no step can still send for: by their rows alone when they have no
    follow-ups, else by their follow-ups' windows too; their keys."""
    done = set(await outbox.finish_campaigns(now))
    async for row, campaign in _running("finish", follow_up_steps__gt=0):
        if await close_if_done(campaign, int(row.id), now=now):
            done.add(int(row.id))
    keys = await CampaignRow.filter(id__in=sorted(done)).order_by("id").values_list("key", flat=True)
    return [str(k) for k in keys]


async def housekeeping(
    claim_timeout_seconds: float,
    shop_zone: ZoneInfo | None = None,
    channels: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, int]:
    """Expire dead claims (a live dispatcher renews its own), queue order notices a crash left recorded (on
    ``channels``, those served, where the customer has a chat there), close finished campaigns; what it did."""
    now = now or datetime.now(UTC)
    notices = await queue_notices(shop_zone, now, channels)
    stale = await outbox.recover(older_than=now - timedelta(seconds=claim_timeout_seconds))
    if stale.unknown or stale.released:
        log.warning(
            "housekeeping: a dispatcher stopped answering: %d of its deliveries released, %d in flight now unknown",
            stale.released,
            stale.unknown,
        )
    done = await finish(now)
    if done:
        log.info("housekeeping: campaigns %s are done", ", ".join(done))
    return {"unknown": stale.unknown, "released": stale.released, "done": len(done), "notices": notices}


async def reconcile_unknown(
    channels: Mapping[str, object], settle_seconds: float, *, now: datetime | None = None
) -> dict[str, int]:
    """Look the ``unknown`` rows up on the channels of ``channels`` that can (a :class:`campaigns.ports.Reconciler`):
    a row not found counts as not delivered once ``settle_seconds`` (the claim timeout) have passed since its claim.
    How many became sent, were queued again, failed, and are still unknown."""
    done = await reconcile(channels, now or datetime.now(UTC), timedelta(seconds=settle_seconds))
    return done.as_dict()


async def follow_ups(
    writer: CopyWriter,
    definitions: Definitions,
    shop_name: str,
    shop_zone: ZoneInfo | None = None,
    quiet: Span | None = None,
    shop_url: str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, int]:
    """Sweep every running campaign's follow-ups; time, write and queue the rows planned; rows per campaign key."""
    now = now or datetime.now(UTC)
    planned: dict[str, int] = {}
    async for row, campaign in _running("follow-ups"):
        steps = len(campaign.follow_ups)
        if not steps:
            continue
        if row.follow_up_steps != steps:  # registered before the count was kept
            row.follow_up_steps = steps
            await row.save(update_fields=["follow_up_steps"])
        result = await sweep(campaign, int(row.id), now=now)
        for step_id, count in result.planned.items():
            if count:
                await set_due_times(
                    campaign, int(row.id), step_id, now=now, shop_zone=shop_zone or UTC_ZONE, quiet=quiet, run_start=now
                )
                await write_copy(
                    campaign, int(row.id), definitions, writer, as_of=now, step=step_id, shop_name=shop_name,
                    shop_url=shop_url,
                )  # fmt: skip
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
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """Plan and write every due run of the running recurring campaigns; the step planned per campaign key."""
    now = now or datetime.now(UTC)
    done: dict[str, str] = {}
    async for row, campaign in _running("recurring", next_run_at__lte=now):
        ran = await launch.run_due(
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

"""Reconciliation: turning ``unknown`` rows into ``sent`` or certainly-not-sent, where the platform can tell.

A row is ``unknown`` when its send may or may not have reached the platform (a timeout or a dropped connection
after the request was written, a crash while it was in flight); the dispatcher never resends it (at most once). A
channel whose messages carry their delivery's id (Slack's message metadata) implements
:class:`campaigns.ports.Reconciler` and can look each row up:

* found: the row becomes ``sent``, with the platform's id of the message and the moment it was posted;
* not found, in a search that read everything the chat holds since a little before the claim, and once the
  claim's lease has passed (``settle``: by then no request of that claim can still be in flight, so nothing can
  still appear): the message was certainly not delivered. It is queued again, to be sent once more, while that is
  still what the marketer asked for: its campaign runs (or is ``done`` only because this row was final: it runs
  again until the row is), it was claimed less than :data:`RESEND_WITHIN` ago (still timely: within its send
  window, not hours late), it has had fewer than :data:`RESEND_ATTEMPTS` attempts, and no later message to the
  customer on that channel has gone out since (it would arrive out of order, or after the news that made it
  stale: a "delayed" after "delivered"). Otherwise it becomes ``failed``, "not delivered (reconciled)";
* cannot tell now (the history could not be read: a 429, a 5xx, a missing scope, a budget spent): it stays
  ``unknown`` for a later pass.

Found messages are final at any time; "not found" counts only after ``settle``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.ports import Reconciler, Uncertain
from storage import outbox

log = logging.getLogger(__name__)

RESEND_ATTEMPTS = 3  # an undelivered row with this many attempts already is failed, not queued again
RESEND_WITHIN = timedelta(hours=1)  # an undelivered row claimed longer ago than this is failed: too late to send
RESENDABLE = ("running", "done")  # the campaign statuses in which an undelivered row is queued again
ROWS = 1000  # unknown rows a pass looks at per channel, oldest claim first


def resendable(row: outbox.UnknownRow, now: datetime) -> bool:
    """Whether a row certainly not delivered is sent again (see the module's docstring) rather than failed."""
    return (
        row.campaign_status in RESENDABLE
        and not row.overtaken
        and row.attempts < RESEND_ATTEMPTS
        and now - row.claimed_at <= RESEND_WITHIN
    )


@dataclass
class Reconciled:
    """What a pass did: rows found delivered (``sent``), queued again, failed, and left ``unknown``."""

    sent: int = 0
    requeued: int = 0
    failed: int = 0
    unknown: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts by name, as the jobs report them."""
        return {"sent": self.sent, "requeued": self.requeued, "failed": self.failed, "unknown": self.unknown}


async def reconcile(channels: Mapping[str, object], now: datetime, settle: timedelta) -> Reconciled:
    """One pass over the ``unknown`` rows of every channel in ``channels`` that is a :class:`Reconciler`, at ``now``
    (the moment the histories are read from); ``settle``: how long after its claim a row not found counts as not
    delivered (the claim's lease)."""
    done = Reconciled()
    for name, channel in channels.items():
        if not isinstance(channel, Reconciler):
            continue
        rows = await outbox.unknown_rows(name, ROWS)
        if not rows:
            continue
        try:
            found = await channel.find([Uncertain(row.id, row.address, row.claimed_at) for row in rows])
        except Exception:  # a bug in the adapter must not stop the other jobs: the rows wait for a later pass
            log.exception("reconciliation: %s could not look its unknown deliveries up", name)
            done.unknown += len(rows)
            continue
        sent = [(row.id, receipt.message_id, receipt.sent_at) for row in rows if (receipt := found.get(row.id))]
        absent = [row for row in rows if row.id in found and found[row.id] is None and now - row.claimed_at >= settle]
        again = [row.id for row in absent if resendable(row, now)]
        failed = [row.id for row in absent if row.id not in again]
        counts = Reconciled(
            await outbox.reconciled_sent(sent),
            await outbox.reconciled_requeue(again, now),
            await outbox.reconciled_failed(failed),
        )
        counts.unknown = len(rows) - counts.sent - counts.requeued - counts.failed
        if counts.sent or counts.requeued or counts.failed:
            log.info(
                "reconciliation on %s: %d unknown deliveries found delivered, %d not delivered and queued again, "
                "%d not delivered and failed; %d still unknown",
                name, counts.sent, counts.requeued, counts.failed, counts.unknown,
            )  # fmt: skip
        done.sent += counts.sent
        done.requeued += counts.requeued
        done.failed += counts.failed
        done.unknown += counts.unknown
    return done

"""The dispatcher: claims due deliveries, sends them through their channel at its pace, records what happened.

A row is ``sending`` (the claim) before its request and ``sent`` after it; rows a dead dispatcher left in
``sending`` become ``unknown`` on the next start and are never resent: a duplicate is worse than a miss. A message
the channel sends in pieces keeps the pieces that went out on its row, whatever stopped the rest: a retry sends
only the rest.

A 429 pauses what it concerns (:class:`campaigns.ports.RateLimited`'s scope): the whole channel, whose sends wait
it out, or one target (a chat, a workspace), whose rows go back to the queue until the pause ends while the
channel's other rows go on. With shared limits (Redis) every worker heeds every pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from campaigns.audience.caps import Capped, Caps
from campaigns.audience.suppression import Suppression
from campaigns.delivery.limits import Throttle
from campaigns.delivery.links import TrackedLinks
from campaigns.delivery.metrics import Metrics
from campaigns.delivery.retry import Backoff, verdict
from campaigns.ports import (
    Button,
    Channel,
    ChannelError,
    ChannelUninstalled,
    DeliveryUncertain,
    OutboundMessage,
    RateLimited,
)
from campaigns.timing.clock import Clock, wall_clock
from storage import installations, outbox
from storage.db import DATABASE_DOWN
from storage.outbox import TRANSACTIONAL, Claimed
from storage.replies import STEP_PREFIX as REPLY_STEP

log = logging.getLogger(__name__)

SEND_DEADLINE = 60.0  # seconds one request may take before its outcome is unknown (the adapters' own timeouts: 30)
HEARTBEAT = 20.0  # seconds between renewals of a live dispatcher's claims
FLUSH_SECONDS = 0.05  # the longest finished sends wait to be recorded together
AGAIN = ("rate_limited", "retry", "migrated")  # the failures that put a row back in the queue


@dataclass
class DispatchStats:
    """What a dispatcher did so far."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    requeued: int = 0
    unknown: int = 0
    rate_limited: int = 0  # 429 answers
    waits: int = 0  # sends held back by a pause after a 429: waited out (the channel's) or requeued (a target's)
    capped: int = 0  # rows held back or skipped by a frequency cap
    suppressed: int = 0  # rows skipped because the customer is unhappy (open complaint, negative words)
    database_errors: int = 0  # service-loop rounds lost to a database that went away
    released: int = 0  # rows given back to the queue unsent: at a stop, or left claimed by a previous life
    paused: list[int] = field(default_factory=list)  # campaigns paused by the error ceiling


@dataclass
class _Results:
    """One channel batch's outcomes, recorded together."""

    sent: list[tuple[int, str, datetime]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)
    retry: list[tuple[int, datetime, str]] = field(default_factory=list)
    limited: list[tuple[int, datetime, str]] = field(default_factory=list)
    waiting: list[tuple[int, datetime, str]] = field(default_factory=list)  # not sent now: the chat's pace is full
    held: list[tuple[int, datetime, str]] = field(default_factory=list)  # rows of a paused target, until its end
    pieces: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # the pieces a row's send did send
    unreachable: list[tuple[Claimed, str]] = field(default_factory=list)
    gone: list[tuple[Claimed, str, str]] = field(default_factory=list)  # (row, error, blocked or deactivated)
    uninstalled: list[tuple[Claimed, ChannelUninstalled]] = field(default_factory=list)  # the workspace's doing
    failing: set[int] = field(default_factory=set)  # campaigns with a failure in the batch

    def fail(self, row: Claimed, error: str) -> None:
        """Record a row that will not be retried."""
        self.failed.append((row.id, error))
        self.failing.add(row.campaign_id)

    def take(self) -> _Results:
        """What was collected so far, leaving this empty for the sends still running."""
        out = _Results()
        for name in [f.name for f in fields(self)]:
            value = getattr(self, name)
            setattr(out, name, value)
            setattr(self, name, type(value)())
        return out

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


class _InFlight:
    """Marks rows ``sending`` just before their requests go, in groups: the sends that reach that point together
    share one UPDATE, and each goes only once its row is marked (and still its dispatcher's)."""

    def __init__(self, worker: str, clock: Clock) -> None:
        self.worker, self.clock = worker, clock
        self._ids: list[int] = []
        self._tracked: list[int] = []
        self._group: asyncio.Future[set[int]] | None = None

    async def mark(self, row_id: int, tracked: bool = False) -> bool:
        """Whether the row is now ``sending`` for this dispatcher (False: it is not ours to send any more); ``tracked``:
        its links go out as tracked redirects (noted on the row)."""
        if self._group is None:
            self._group = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().create_task(self._flush())
        group = self._group
        self._ids.append(row_id)
        if tracked:
            self._tracked.append(row_id)
        return row_id in await asyncio.shield(group)

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # the sends ready at this moment join the group
        ids, tracked, group = self._ids, self._tracked, self._group
        self._ids, self._tracked, self._group = [], [], None
        assert group is not None
        try:
            group.set_result(await outbox.mark_in_flight(self.worker, ids, self.clock(), tracked))
        except Exception as exc:  # the database went away: none of them is sent (each stays claimed: released)
            group.set_exception(exc)


class Dispatcher:
    """Sends the outbox through ``channels`` (by name) as ``worker``; see the module docstring for the rules.
    ``links``: where a marketing message's links go out as tracked redirects (None: as they are)."""

    def __init__(
        self,
        channels: Mapping[str, Channel],
        *,
        worker: str,
        batch: int = 64,
        max_attempts: int = 5,
        backoff_base: float = 2.0,
        backoff_max: float = 300.0,
        error_ceiling: float = 0.2,
        error_min: int = 50,
        rates: Mapping[str, float] | None = None,
        poll_interval: float = 1.0,
        clock: Clock = wall_clock,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        caps: Caps | None = None,
        shared_limits: str | None = None,
        metrics: Metrics | None = None,
        suppression: Suppression | None = None,
        send_deadline: float = SEND_DEADLINE,
        heartbeat: float = HEARTBEAT,
        links: TrackedLinks | None = None,
    ) -> None:
        self.metrics, self.send_deadline, self.heartbeat = metrics, send_deadline, heartbeat
        self.links = links
        self.channels, self.worker, self.batch = dict(channels), worker, batch
        self.max_attempts, self.backoff = max_attempts, Backoff(backoff_base, backoff_max)
        self.error_ceiling, self.error_min, self.poll_interval = error_ceiling, error_min, poll_interval
        self.clock, self.sleep, self.rng = clock, sleep, rng or random.Random()
        self.throttles = {
            name: Throttle.for_channel(name, ch.limits, rates, clock=clock, sleep=sleep, shared=shared_limits)
            for name, ch in self.channels.items()
        }
        self.caps, self.suppression = caps, suppression
        self.stats = DispatchStats()
        self.idle = asyncio.Event()  # set while the service loop finds nothing due (tests and the demo await it)
        self._started = False
        self._stop: asyncio.Event | None = None  # set: claim nothing more, release what waits, finish what flies
        self._in_flight = _InFlight(worker, clock)
        self._beat = time.monotonic()
        self._live: set[int] = set()  # the rows this dispatcher holds now: the only claims its heartbeat renews

    async def start(self) -> int:
        """Recover what this worker's previous life left (same name): rows it had claimed go back to the queue,
        rows whose request was in flight become ``unknown``; how many became unknown (once per instance)."""
        if self._started:
            return 0
        self._started = True
        left = await outbox.recover(worker=self.worker)
        if left.unknown or left.released:
            log.warning(
                "dispatcher %s: at its last stop %d deliveries were in flight (now unknown) and %d waiting (released)",
                self.worker,
                left.unknown,
                left.released,
            )
        self.stats.unknown += left.unknown
        self.stats.released += left.released
        return left.unknown

    async def run_once(self) -> int:
        """Claim one window per channel, send it (each row recorded as its send completes); how many rows were
        handled."""
        await self.start()
        handled = await asyncio.gather(*(self._pump(name, refill=False) for name in self.channels))
        return sum(handled)

    async def drain(
        self, *, wait: bool = True, max_wait: float | None = None, stop: asyncio.Event | None = None
    ) -> DispatchStats:
        """Burst mode: send until nothing is due, finish campaigns, return. ``wait``: wait out the retries of due
        rows (a rate limit's pause, a backoff, a frequency cap's hold), but only those due within ``max_wait``
        seconds when it is given; the rest, and everything when ``wait`` is False, is left to a later call (a
        rehearsal's clock moves only between its moments; ``serve --once`` from cron must not wait a day).
        ``stop`` set (a SIGTERM): the requests in flight finish, the rest is released, and it returns."""
        self._stop = stop
        await self.start()
        while not self._stopping():
            if await self._pump_all():
                continue
            if not wait:
                break
            now = self.clock()
            wake = await outbox.next_due(now, self.channels, retries_only=True)
            if wake is None or (max_wait is not None and (wake - now).total_seconds() > max_wait):
                break
            await self.sleep(max((wake - now).total_seconds(), 0.0))
        await outbox.finish_campaigns(self.clock())
        return self.stats

    async def run(self, stop: asyncio.Event) -> DispatchStats:
        """Service loop until ``stop`` is set: send what is due, else wait for the next due row or the poll. A
        database that goes away (a restart, a dropped connection) is waited out, not fatal: rows claimed when it
        went stay claimed until their claim expires (released, or unknown if in flight), so none is sent twice."""
        self._stop = stop
        while not stop.is_set():
            try:
                await self.start()
                if await self._pump_all():
                    self.idle.clear()
                    continue
                now = self.clock()
                await outbox.finish_campaigns(now)
                wake = await outbox.next_due(now, self.channels)
                timeout = self.poll_interval if wake is None else (wake - now).total_seconds()
                if wake is None:
                    self.idle.set()
            except DATABASE_DOWN as exc:
                self.stats.database_errors += 1
                log.warning("dispatcher %s: the database failed (%s); trying again", self.worker, exc)
                timeout = self.poll_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(max(timeout, 0.0), self.poll_interval))
        with contextlib.suppress(*DATABASE_DOWN):
            await outbox.finish_campaigns(self.clock())  # what the last sends completed
        await self.close()
        return self.stats

    async def send_now(self, ids: Sequence[int]) -> None:
        """Send the rows ``ids`` at once where their chat's pace allows (a reply, the moment it is queued); a row
        whose chat must wait is left queued until then, and the service loop sends it. The same rules as any send:
        the throttles, the error mapping, the recording."""
        await self.start()
        rows = await outbox.claim_rows(self.worker, ids, self.clock(), self.channels)
        for name in sorted({row.channel for row in rows}):
            mine = [row for row in rows if row.channel == name]
            todo = [row for row in mine if row.skipped is None]
            self.stats.skipped += len(mine) - len(todo)
            results = _Results()
            await asyncio.gather(*(self._send(name, row, results, wait=False) for row in todo))
            await self._record(name, results)

    async def close(self) -> None:
        """Let go of the connections the rate limits hold (Redis); a later send opens them again."""
        for throttle in self.throttles.values():
            await throttle.close()

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _window(self, name: str) -> int:
        """How many rows a channel keeps claimed at once: about a second's worth at its rate (``batch`` at most)."""
        rate = self.throttles[name].overall_rate
        return min(self.batch, max(1, int(rate))) if rate else self.batch

    async def _pump_all(self) -> int:
        handled = await asyncio.gather(*(self._pump(name, refill=True) for name in self.channels))
        return sum(handled)

    async def _pump(self, name: str, *, refill: bool) -> int:
        """Send the channel's due rows, keeping its window full while ``refill`` (else one claim's worth): a new
        claim as soon as a quarter of the window is free, each finished send recorded within ``FLUSH_SECONDS``;
        returns when nothing more is due and every send has finished. How many rows were claimed."""
        window, handled, first, more = self._window(name), 0, True, True
        pending: set[asyncio.Task[bool]] = set()
        chains: dict[str, asyncio.Task[bool]] = {}  # the last send to each chat: the next one waits for it
        results = _Results()
        claimed_at = time.monotonic()
        try:
            while True:
                room = window - len(pending)
                # nothing was due at the last claim: look again after a poll, not while each send finishes
                again = more or time.monotonic() - claimed_at >= self.poll_interval
                if (first or (refill and again)) and not self._stopping() and room >= max(1, window // 4):
                    first, claimed_at = False, time.monotonic()
                    claimed, todo = await self._claim(name, room)
                    handled += claimed
                    more = claimed > 0
                    for row in todo:
                        pending.add(self._start(name, row, results, chains))
                if not pending:
                    if refill and more and not self._stopping():
                        continue  # all it claimed was skipped or held: there may be more
                    break
                _, pending = await asyncio.wait(pending, timeout=FLUSH_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                if results:
                    await self._record(name, results.take())
                await self._heartbeat()
        finally:
            if pending:  # cancelled from outside (the process is going): what flies is the next start's to recover
                for task in pending:
                    task.cancel()
            if results:
                with contextlib.suppress(*DATABASE_DOWN):
                    await self._record(name, results.take())
        return handled

    def _start(
        self, name: str, row: Claimed, results: _Results, chains: dict[str, asyncio.Task[bool]]
    ) -> asyncio.Task[bool]:
        """Start the row's send, after the send before it to the same chat (the order they were queued in)."""
        before = chains.get(row.address or "")
        if before is not None and before.done():
            # it finished before this row was claimed: the claim itself kept the order (a message is not claimed
            # while an earlier one to its chat is about to be retried)
            before = None

        async def send() -> bool:
            self._live.add(row.id)
            try:
                if before is not None:
                    await asyncio.wait([before])
                    if before.cancelled() or before.exception() is not None or not before.result():
                        # the earlier message to this chat went back to the queue: this one must not overtake it
                        results.waiting.append((row.id, self.clock(), "waiting for an earlier message to this chat"))
                        return False
                return await self._send(name, row, results)
            finally:
                self._live.discard(row.id)

        task = asyncio.get_running_loop().create_task(send())
        chains[row.address or ""] = task
        return task

    async def _heartbeat(self) -> None:
        """Renew the claims of the rows this dispatcher holds every ``heartbeat`` seconds, so that no sweep takes it for
        dead (a row it lost hold of, e.g. claimed when the database went away, is left to expire and be released)."""
        if time.monotonic() - self._beat >= self.heartbeat:
            self._beat = time.monotonic()
            await outbox.touch(self.worker, self._live, self.clock())

    async def _claim(self, name: str, limit: int) -> tuple[int, list[Claimed]]:
        """Claim up to ``limit`` due rows; skip the suppressed, hold the capped; (how many were claimed, the rows
        to send)."""
        rows = await outbox.claim(self.worker, limit, self.clock(), [name])
        todo = [row for row in rows if row.skipped is None]
        self.stats.skipped += len(rows) - len(todo)
        if self.metrics is not None and len(rows) > len(todo):
            self.metrics.sends.labels(name, "skipped").inc(len(rows) - len(todo))
        if self.suppression is not None and todo:
            # before the caps: a suppressed row must not use up the customer's allowance
            todo, suppressed = await self.suppression.split(todo, self.clock())
            skipped = await outbox.skip(suppressed)
            self.stats.suppressed, self.stats.skipped = self.stats.suppressed + skipped, self.stats.skipped + skipped
            if self.metrics is not None and skipped:
                self.metrics.sends.labels(name, "suppressed").inc(skipped)
        if self.caps is not None and todo:
            todo, held = await self.caps.split(todo, self.clock())
            await self._hold(held)
        return len(rows), todo

    async def _send(self, name: str, row: Claimed, results: _Results, *, wait: bool = True) -> bool:
        """Send one row, waiting for its turn (``wait``), or else leaving it for later when its turn is not now.
        Whether it is done with (sent, or final); False: it goes back to the queue (or is not ours any more)."""
        try:
            message, tracked = _message(row, self.links)
        except (TypeError, ValueError) as exc:
            results.fail(row, str(exc))
            return True
        throttle = self.throttles[name]
        key = self.channels[name].limits.pause_key(message.address)
        if await self._held(name, key, row, results):  # before its turn: a held row takes no one's place
            return False
        if not wait:
            if (later := await throttle.try_acquire(message.address)) > 0:
                results.waiting.append((row.id, self.clock() + timedelta(seconds=later), "waiting for the chat's pace"))
                return False
            waits = 0
        else:
            waits = await throttle.acquire(message.address)
        self.stats.waits += waits
        if await self._held(name, key, row, results):  # a pause that came while it waited its turn
            return False
        if self._stopping():  # stopping: it never left, so it goes back to the queue
            results.waiting.append((row.id, self.clock(), "released: the dispatcher stopped"))
            self.stats.released += 1
            return False
        try:
            if not await self._in_flight.mark(row.id, tracked):
                return False  # no longer ours (a sweep took this dispatcher for dead): whoever owns it sends it
        except DATABASE_DOWN:
            return False  # not marked, so not sent: it stays claimed and is released later
        started = time.perf_counter()
        try:
            try:
                async with asyncio.timeout(self.send_deadline):
                    receipt = await self.channels[name].send(message)
            except TimeoutError:
                raise DeliveryUncertain(f"no answer within {self.send_deadline:g}s") from None
        except Exception as exc:
            done = self._handle(name, row, exc, results) not in AGAIN
            if isinstance(exc, ChannelError) and len(exc.sent) > len(message.sent_pieces):
                results.pieces.append((row.id, exc.sent))
            if isinstance(exc, RateLimited):
                await throttle.pause(exc.retry_after, key if exc.scope == "target" else None)
        else:
            # the engine's clock says when, not the adapter's: the same moment in production, and a rehearsal's
            # simulated one when it passes a simulated clock (follow-up windows and caps count from it)
            results.sent.append((row.id, receipt.message_id, self.clock()))
            if len(receipt.message_ids) > 1:
                results.pieces.append((row.id, receipt.message_ids))
            done = True
        finally:
            if self.metrics is not None:
                self.metrics.send_seconds.labels(name).observe(time.perf_counter() - started)
                if waits:
                    self.metrics.rate_waits.labels(name).inc(waits)
        return done

    async def _held(self, name: str, key: str, row: Claimed, results: _Results) -> bool:
        """Whether the row's target is paused: then it goes back to the queue until the pause ends (not counted as
        an attempt) and the batch goes on without it."""
        until = await self.throttles[name].held_until(key)
        if until is None:
            return False
        results.held.append((row.id, until, f"rate limited: {key} is paused"))
        self.stats.waits += 1
        if self.metrics is not None:
            self.metrics.rate_waits.labels(name).inc()
        return True

    async def _hold(self, held: list[Capped]) -> None:
        """Requeue (wait) or skip the rows a frequency cap holds back; the attempt is not counted."""
        if not held:
            return
        waiting = [(c.row.id, c.until, "frequency cap") for c in held if c.until is not None]
        skipping = [(c.row.id, "frequency_cap") for c in held if c.until is None]
        requeued = await outbox.requeue(waiting, refund=True)
        skipped = await outbox.skip(skipping)
        self.stats.capped += len(held)
        if self.metrics is not None:
            for c in held:
                self.metrics.sends.labels(c.row.channel, "capped").inc()
        self.stats.requeued, self.stats.skipped = self.stats.requeued + requeued, self.stats.skipped + skipped

    def _handle(self, name: str, row: Claimed, exc: Exception, results: _Results) -> str:
        """Sort a failed send by the engine's rule (:func:`verdict`); the action taken."""
        what = verdict(exc, row.attempts, self.max_attempts, self.backoff, self.rng)
        later = self.clock() + timedelta(seconds=what.delay)
        if what.action == "rate_limited":  # the pause itself is _send's to make
            self.stats.rate_limited += 1
            results.limited.append((row.id, later, what.error))
        elif what.action == "retry":
            results.retry.append((row.id, later, what.error))
        elif what.action == "migrated":
            results.unreachable.append((row, f"migrated:{what.new_address}"))
        elif what.action == "unreachable":
            results.unreachable.append((row, what.error))
        elif what.action == "gone":
            results.gone.append((row, what.error, what.left or "deactivated"))
        elif what.action == "uninstalled" and isinstance(exc, ChannelUninstalled):
            results.uninstalled.append((row, exc))
        elif what.action == "unknown":
            if isinstance(exc, DeliveryUncertain):  # the platform may have it: expected now and then, not a bug
                log.warning("dispatcher %s: delivery %d: outcome unknown, %s", self.worker, row.id, what.error)
            else:
                # not the channel's error tree: a bug in an adapter, worth its traceback
                log.error("dispatcher %s: delivery %d: unexpected %s", self.worker, row.id, what.error, exc_info=exc)
            results.unknown.append((row.id, what.error))
        else:
            results.fail(row, what.error)
        return what.action

    async def _record(self, name: str, results: _Results) -> None:
        # each count is awaited before it is added: ``x += await f()`` would lose another channel's update
        now = self.clock()
        await outbox.note_pieces(results.pieces)  # first: whatever happens to the rows next, these went out
        sent = await outbox.mark_sent(results.sent)
        failed = await outbox.mark_failed(results.failed)
        unknown = await outbox.mark_unknown(results.unknown)
        requeued = await outbox.requeue(results.retry) + await outbox.requeue(results.limited, refund=True)
        requeued += await outbox.requeue(results.waiting, refund=True)
        requeued += await outbox.requeue(results.held, refund=True)
        skipped = 0
        for row, error in results.unreachable:
            if error.startswith("migrated:") and row.address:
                await outbox.move_address(name, row.address, error.removeprefix("migrated:"))
                requeued += await outbox.requeue([(row.id, now, error)], refund=True)
                continue
            await outbox.mark_unreachable(name, row.address or "", error)
            skipped += await outbox.skip([(row.id, "unreachable")])
            skipped += await outbox.skip_customer(row.customer_id, name, "unreachable")
        for row, error, left in results.gone:
            skipped += await _gone(name, row, error, left, now)
        skipped += await _uninstalled(name, results.uninstalled, now)
        stats = self.stats
        if self.metrics is not None:
            counts = {"sent": sent, "failed": failed, "unknown": unknown, "retried": len(results.retry),
                      "rate_limited": len(results.limited),
                      "unreachable": len(results.unreachable) + len(results.gone)}  # fmt: skip
            for outcome, n in counts.items():
                if n:
                    self.metrics.sends.labels(name, outcome).inc(n)
        stats.sent, stats.failed, stats.unknown = stats.sent + sent, stats.failed + failed, stats.unknown + unknown
        stats.requeued, stats.skipped = stats.requeued + requeued, stats.skipped + skipped
        await self._check_ceiling(results.failing, now)

    async def _check_ceiling(self, campaign_ids: set[int], now: datetime) -> None:
        for campaign_id in sorted(campaign_ids):
            counts = await outbox.campaign_counts(campaign_id)
            failed, done = counts.get("failed", 0), counts.get("failed", 0) + counts.get("sent", 0)
            if done < self.error_min or failed / done <= self.error_ceiling:
                continue
            reason = f"error ceiling: {failed} of {done} sends failed (> {self.error_ceiling:.0%})"
            if await outbox.pause_campaign(campaign_id, reason, now):
                log.warning("dispatcher %s: campaign %d paused: %s", self.worker, campaign_id, reason)
                self.stats.paused.append(campaign_id)


async def _gone(channel: str, row: Claimed, error: str, reason: str, now: datetime) -> int:
    """The customer blocked the bot or their account is gone (``reason``): the row is skipped, and they leave
    (:func:`storage.outbox.customer_left`: unreachable, opted out with an event, their journeys ended)."""
    left = await outbox.customer_left(
        channel, row.address or "", row.customer_id, reason=reason, error=error, at=now, delivery_id=row.id
    )
    return await outbox.skip([(row.id, reason)]) + left


async def _uninstalled(channel: str, rows: list[tuple[Claimed, ChannelUninstalled]], now: datetime) -> int:
    """The app is no longer installed in these rows' workspaces: each workspace is marked inactive (its rows are
    skipped as they fall due, until a reinstall) and these rows are skipped; none counts as failed, and nobody's
    consent changes (an uninstall is no opt-out)."""
    for workspace, scope, reason in sorted({(e.workspace, e.scope, e.reason) for _, e in rows}):
        if await installations.deactivate(channel, workspace, scope=scope, reason=reason, at=now):
            log.warning("%s workspace %s no longer has the app (%s): its rows are skipped", channel, workspace, reason)
    return await outbox.skip([(row.id, installations.PARKED) for row, _ in rows])


def _message(row: Claimed, links: TrackedLinks | None) -> tuple[OutboundMessage, bool]:
    """The message a claimed row sends, and whether its links are tracked: a marketing message's are, with ``links``
    (order notices and replies are the shop's service, not marketing: they go as written). The row keeps its text as
    written; a retry rewrites it the same way."""
    if not row.address:
        raise ValueError("the delivery has no address")
    if not row.text:
        raise ValueError("the delivery has no text")
    buttons = tuple(Button(**button) for button in row.buttons)
    if row.step.startswith(REPLY_STEP):  # a reply's buttons are the chat's own (Unsubscribe), no campaign's
        return OutboundMessage(row.address, row.text, buttons, idempotency_key=f"delivery:{row.id}"), False
    marketing = row.kind not in TRANSACTIONAL
    text, tracked = row.text, marketing and links is not None
    if links is not None and tracked:
        text, buttons = links.rewrite(row.id, text, buttons)
    message = OutboundMessage(
        row.address,
        text,
        buttons,
        image_url=row.image_url,
        image_alt=row.image_alt,
        campaign_id=row.campaign_id,
        step=row.step,
        idempotency_key=f"delivery:{row.id}",
        sent_pieces=row.pieces,
        link_previews=not marketing,  # a preview is the platform's fetch, not the customer's click
    )
    return message, tracked

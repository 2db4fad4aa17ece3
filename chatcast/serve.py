"""``chatcast serve``: the long-running process. The bots (Telegram by polling or webhook, Slack over HTTP or
Socket Mode), the dispatcher, the scheduler's housekeeping and the HTTP endpoints (health, webhooks, the redirect
of tracked links) on one aiohttp server, until SIGTERM or SIGINT: then the dispatcher finishes the batch in flight,
nothing new is claimed, and every connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web

from bots.registry import names
from bots.spec import Receiver
from campaigns.delivery.dispatcher import Dispatcher, DispatchStats
from campaigns.delivery.links import TrackedLinks
from campaigns.delivery.metrics import Metrics
from campaigns.notices.queue import queue_notices
from campaigns.results.attribution import attribute
from campaigns.scheduler import Scheduler
from chatcast.dashboard import add_dashboard
from chatcast.engine import (
    build_writer,
    campaign_dispatcher,
    campaign_scheduler,
    open_bots,
    secret,
    watch_assistant,
)
from chatcast.links import add_link_routes, link_tokens
from chatcast.settings import Settings
from storage import db
from storage.lease import Lease
from storage.orders import MAX_BODY, BodyRefused, OrderRejected, read_order, upsert_order
from storage.sql import fetch

log = logging.getLogger(__name__)

ROLES = ("all", "worker")


@dataclass
class ServiceState:
    """What ``/health`` reports."""

    worker: str
    started_at: datetime
    channels: list[str] = field(default_factory=list)
    receiving: dict[str, str] = field(default_factory=lambda: dict.fromkeys(names(), "off"))  # how, per channel
    url: str = ""
    role: str = "all"
    dispatcher: Dispatcher | None = None
    scheduler: Scheduler | None = None
    lease: Lease | None = None

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the service is well, and what it says about itself."""
        try:
            await fetch("SELECT 1")
            database = "ok"
        except Exception as exc:  # the health check reports, it does not fail
            database = f"error: {type(exc).__name__}"
        stats = self.dispatcher.stats if self.dispatcher else DispatchStats()
        body = {
            "status": "ok" if database == "ok" else "degraded",
            "worker": self.worker,
            "started_at": self.started_at.isoformat(),
            "database": database,
            "channels": self.channels,
            **self.receiving,  # per channel: off, or how it receives (polling, webhook, http, socket)
            "role": self.role,
            "scheduler": self.scheduler.describe() if self.scheduler else None,
            "lease": bool(self.lease and self.lease.held),
            "dispatcher": {
                "sent": stats.sent,
                "failed": stats.failed,
                "skipped": stats.skipped,
                "requeued": stats.requeued,
                "unknown": stats.unknown,
                "rate_limited": stats.rate_limited,
                "paused_campaigns": stats.paused,
            },
        }
        return database == "ok", body


def default_worker() -> str:
    """This process's claim name: host and process, so that no other process takes its live claims for its own (a
    name given with ``--worker`` recovers, at start, what its previous life left)."""
    return f"serve-{socket.gethostname()}-{os.getpid()}"


async def run_service(
    settings: Settings,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    worker: str | None = None,
    public_url: str | None = None,
    ready: Callable[[ServiceState], None] | None = None,
    role: str = "all",
    lease_poll_seconds: float = 2.0,
) -> DispatchStats:
    """Serve until ``stop`` is set; the dispatcher's totals. ``public_url`` (https://host) makes Telegram post
    to the webhook instead of being polled. ``role`` "worker" only sends (no bots receiving, no hooks): run
    several on PostgreSQL, with ``CHATCAST_REDIS_URL`` so that they share the bots' rate limits. Whatever the
    role, one process at a time runs the scheduler: the holder of the lease."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (all or worker)")
    state = ServiceState(worker=worker or default_worker(), started_at=datetime.now(UTC), role=role)
    async with db.database(settings.db_url), open_bots(settings, public_url=public_url) as bots:
        state.channels = sorted(bots.channels)
        app = web.Application()
        app.router.add_get("/health", _health(state))
        metrics = Metrics(usd_per_million_tokens=settings.llm_usd_per_million_tokens)
        writer = build_writer(settings)
        metrics.count_tokens("writer", lambda: writer.stats.tokens)
        if bots.assistant is not None:
            watch_assistant(metrics, bots.assistant)
        hook_secret = secret(settings.order_webhook_secret)
        receivers: list[Receiver] = []
        if role == "all":
            if hook_secret:
                app.router.add_post(
                    "/hooks/orders", _orders_hook(hook_secret, settings.zone, state.channels, settings.shop_currency)
                )
            dashboard = add_dashboard(
                app, settings.dashboard_user, secret(settings.dashboard_password), metrics,
                zone=settings.zone, shop_currency=settings.shop_currency,
            )  # fmt: skip
            if dashboard:
                log.info("dashboard at /dashboard and metrics at /metrics (basic auth as %s)", settings.dashboard_user)
            for name, bot in bots.bots.items():  # routes on the app, polling, or a socket: each channel its way
                receiver = await bot.receive(app, public_url=public_url, redis_url=settings.redis_url)
                receivers.append(receiver)
                state.receiving[name] = receiver.mode
        tokens = await link_tokens(settings)
        add_link_routes(app, tokens, lambda: datetime.now(UTC))  # every role: a worker may be the one reached
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        state.url = f"http://{host}:{runner.addresses[0][1]}"
        for receiver in receivers:
            await receiver.listening(public_url)
        links = TrackedLinks(tokens, settings.link_base) if settings.link_base else None
        dispatcher = campaign_dispatcher(settings, bots.channels, worker=state.worker, metrics=metrics, links=links)
        bots.replies.attach(dispatcher, bots.channels)  # answers go out at once, at the pace the dispatcher keeps
        scheduler = campaign_scheduler(settings, writer, bots.channels, role=role, reconcile=True)
        state.dispatcher, state.scheduler = dispatcher, scheduler
        state.lease = Lease(settings.db_url)
        if await state.lease.try_acquire():  # at once, so that a lone process schedules from its first moment
            log.info("scheduler lease taken by %s: this process runs the scheduler", state.worker)
            scheduler.start()
        leading = asyncio.create_task(
            _lead(scheduler, state.lease, stop, lease_poll_seconds, state.worker), name="lease"
        )
        sending = asyncio.create_task(dispatcher.run(stop), name="dispatcher")
        log.info("serving on %s as %s: channels %s", state.url, state.worker, ", ".join(state.channels) or "none")
        if ready:
            ready(state)
        try:
            await stop.wait()
        finally:
            log.info("stopping: finishing the sends in flight")
            stats = await sending  # returns after the batch in flight is recorded
            await leading
            for receiver in receivers:
                await receiver.stop()
            await runner.cleanup()
        log.info("stopped: %s", stats)
        return stats


async def _lead(scheduler: Scheduler, lease: Lease, stop: asyncio.Event, poll: float, worker: str) -> None:
    """Run the scheduler while this process holds the lease; wait for it otherwise; give it up at the stop."""
    try:
        while not stop.is_set():
            try:
                held = await lease.try_acquire()  # keeps a lease it holds while its connection lives
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("scheduler lease: %s", exc)
                held = False
            if held and not scheduler.running:
                log.info("scheduler lease taken by %s: this process runs the scheduler", worker)
                scheduler.start()
            elif not held and scheduler.running:
                log.warning("scheduler lease lost: the scheduler stops here")
                scheduler.shutdown()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll)
    finally:
        scheduler.shutdown()
        await lease.release()


def _orders_hook(shared: str, zone: ZoneInfo, channels: list[str], currency: str) -> Callable[[web.Request], Any]:
    """``POST /hooks/orders``: a shop's order as JSON, authenticated by the shared secret; stored (without a
    ``currency``, in the shop's ``currency``), its status change's notice queued (the dispatcher sends it at once,
    on one of ``channels`` where the customer has a chat there), then attributed: credited once, and its credit
    voided or lowered when the order is cancelled, refunded or returned."""

    async def orders(request: web.Request) -> web.Response:
        given = request.headers.get("X-Chatcast-Secret", "")
        if not hmac.compare_digest(given.encode(), shared.encode()):
            return _refused(401, "X-Chatcast-Secret", "missing or wrong X-Chatcast-Secret")
        try:
            if (request.content_length or 0) > MAX_BODY:
                raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length or 0)
            order_id = await upsert_order(read_order(await request.read()), zone, currency)
        except web.HTTPRequestEntityTooLarge:
            return _refused(413, None, f"the body is larger than {MAX_BODY:,} bytes")
        except BodyRefused as exc:
            return _refused(400, None, exc.reason)
        except OrderRejected as exc:
            return _refused(422, exc.field, str(exc))
        notices = await queue_notices(zone, channels=channels)
        credit = await attribute(order_id)
        log.info("order %s stored; attributed to %s", order_id, credit or "no campaign")
        credited = None if credit is None else {"campaign": credit.campaign_key, "step": credit.step}
        if credit is not None and credit.data.get("void"):
            credited = {**credited, "void": credit.data["void"]}  # type: ignore[dict-item]
        return web.json_response({"order": order_id, "attributed_to": credited, "notices_queued": notices})

    return orders


def _refused(status: int, field: str | None, error: str) -> web.Response:
    """The orders webhook's one shape of refusal: what is wrong, and the field (None: the body as a whole)."""
    return web.json_response({"error": error, "field": field}, status=status)


def _health(state: ServiceState) -> Callable[[web.Request], Any]:
    async def health(request: web.Request) -> web.Response:
        ok, body = await state.health()
        return web.json_response(body, status=200 if ok else 503)

    return health

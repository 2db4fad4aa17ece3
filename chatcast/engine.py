"""Wiring the engine from settings: the writer (template, or the model with a key) and the chat channels."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from openai import AsyncOpenAI

from assistant.feedback import ask_for_feedback
from assistant.knowledge import Knowledge, Shop
from assistant.knowledge import load as load_knowledge_file
from assistant.llm import OpenAIAssistant
from assistant.sentiment import LexiconSentiment, OpenAISentiment
from assistant.service import Assistant, AssistantConfig, release_stale_handoffs
from bots.inbound.acts import Inbound
from bots.inbound.replies import QueuedReplies
from bots.registry import CHANNELS, data_texts, names, text_limits
from bots.spec import ChannelBot, Wiring
from campaigns.audience.caps import Caps
from campaigns.audience.suppression import Suppression, Unhappy
from campaigns.content.writer import CopyWriter, OpenAIWriter
from campaigns.delivery.dispatcher import HEARTBEAT, Dispatcher
from campaigns.delivery.limits import PacedChannel, Throttle
from campaigns.delivery.links import TrackedLinks
from campaigns.delivery.metrics import Metrics
from campaigns.file.definition import FrequencyCap
from campaigns.ports import Channel, Reconciler, StaffAlerts
from campaigns.scheduler import PeriodicJob, Scheduler
from campaigns.timing.clock import Clock, wall_clock
from chatcast.settings import Settings
from segments.definitions import Definitions
from segments.definitions import load as load_segments
from storage.installations import InstallationStore
from storage.redeliveries import StoredUpdates, prune_received

log = logging.getLogger(__name__)


def secret(value: object) -> str | None:
    """The plain value of an optional secret setting."""
    getter = getattr(value, "get_secret_value", None)
    text = getter() if getter else value
    return str(text) if text else None


def openai_client(settings: Settings) -> AsyncOpenAI | None:
    """The OpenAI client the settings' key makes, or None without a key."""
    key = secret(settings.openai_api_key)
    return AsyncOpenAI(api_key=key, base_url=settings.openai_base_url, max_retries=2) if key else None


def build_writer(settings: Settings, client: AsyncOpenAI | None = None) -> CopyWriter:
    """The template writer, or the model's when an OpenAI key (or a client) is given."""
    client = client or openai_client(settings)
    apps = f"a chat app ({' or '.join(spec.title for spec in CHANNELS)})"
    writer = OpenAIWriter(client, settings.openai_model, apps=apps) if client is not None else None
    return CopyWriter(
        writer,
        mode=settings.writer_mode,
        banned=settings.banned_phrases,
        token_budget=settings.llm_token_budget,
        text_limits=text_limits(),
        data_texts=data_texts(),
    )


@contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event that SIGTERM or SIGINT sets, in the running loop, for the block (then Python's own handling again):
    a sender lets its requests in flight finish and gives the rest back to the queue, instead of dying mid-send."""
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    # only the main thread may take signals (a command run from another thread, as the tests do, keeps Python's)
    signals = (signal.SIGTERM, signal.SIGINT) if threading.current_thread() is threading.main_thread() else ()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        yield stop
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


@contextmanager
def tuned_gc() -> Iterator[None]:
    """For a long send: move what is loaded so far out of the collector's way (``gc.freeze``) and collect the
    young generation less often; undone after the block. aiogram, pydantic and tortoise leave hundreds of
    thousands of long-lived objects that every full collection would walk again, while a send allocates a few
    hundred short-lived ones. Measured by ``bench/dispatch.py``: about a quarter more deliveries per CPU second."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def caps(settings: Settings) -> Caps:
    """The shop's frequency cap (campaigns may set their own)."""
    return Caps(
        FrequencyCap(
            day=settings.frequency_cap_day, week=settings.frequency_cap_week, action=settings.frequency_cap_action
        )
    )


def unhappy(settings: Settings) -> Unhappy:
    """The shop's rule for unhappy customers (no promotions while a complaint is open or recent words are bad)."""
    return Unhappy(settings.suppress_unhappy, settings.unhappy_days, settings.unhappy_sentiment)


def suppression(settings: Settings) -> Suppression:
    """That rule as the dispatcher applies it to each row it claims."""
    return Suppression(unhappy(settings))


def paced(settings: Settings, channels: Mapping[str, Channel]) -> dict[str, Channel]:
    """``channels`` for the senders outside the dispatcher (a test send, staff words, feedback questions): each send
    waits its turn under the same limits as the dispatcher's, shared through Redis when it is configured."""
    return {
        name: PacedChannel(
            channel,
            Throttle.for_channel(
                name, channel.limits, rates(settings), clock=wall_clock, sleep=asyncio.sleep, shared=settings.redis_url
            ),
        )
        for name, channel in channels.items()
    }


def rates(settings: Settings) -> dict[str, float]:
    """The send rates the settings ask for, per channel: ``NAME`` overall and ``NAME/chat`` per chat (a channel's
    own limit where its settings set none)."""
    found: dict[str, float] = {}
    for spec in CHANNELS:
        asked = spec.rates(settings)
        if asked.overall is not None:
            found[spec.name] = asked.overall
        if asked.per_chat is not None:
            found[f"{spec.name}/chat"] = asked.per_chat
    return found


def load_definitions(settings: Settings) -> Definitions:
    """The shop's personas and segments (their tones go to the writer), or none when the file is absent."""
    if settings.segments_file.is_file():
        return load_segments(settings.segments_file, names())
    log.warning("no segments file at %s: follow-ups are written without persona tones", settings.segments_file)
    return Definitions(file=str(settings.segments_file), personas=(), segments={})


def campaign_scheduler(
    settings: Settings,
    writer: CopyWriter,
    channels: Mapping[str, Channel],
    *,
    role: str,
    definitions: Definitions | None = None,
    reconcile: bool = False,
) -> Scheduler:
    """The scheduler and its jobs as ``serve`` runs them (the assistant's only with role ``all``); personas and
    segments from ``definitions``, else from the settings' file. ``reconcile``: look the unknown deliveries up on
    the channels that can (Slack), as ``serve`` does; never on a rehearsal's simulated clock, whose moments are not
    the platform's."""
    return Scheduler(
        claim_timeout=timedelta(seconds=settings.claim_timeout_seconds),
        housekeeping_seconds=settings.housekeeping_seconds,
        writer=writer,
        definitions=definitions if definitions is not None else load_definitions(settings),
        shop_name=settings.shop_name,
        shop_url=settings.shop_url,
        shop_zone=settings.zone,
        quiet=settings.quiet_span,
        extra_jobs=assistant_jobs(settings, paced(settings, channels)) if role == "all" else (),
        unhappy=unhappy(settings),
        channels=sorted(channels),
        reconcilers={name: c for name, c in channels.items() if isinstance(c, Reconciler)} if reconcile else None,
    )


def campaign_dispatcher(
    settings: Settings,
    channels: Mapping[str, Channel],
    *,
    worker: str,
    metrics: Metrics | None = None,
    clock: Clock = wall_clock,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    paced: bool = True,
    links: TrackedLinks | None = None,
) -> Dispatcher:
    """The dispatcher as ``serve`` runs it: the settings' rates, frequency cap, suppression and shared limits; on
    ``clock``, waiting with ``sleep``. ``paced`` False lifts every rate (a rehearsal on simulated time: its sends
    would otherwise wait real seconds for a pace that its clock does not see). ``links``: how campaign links are
    tracked (:func:`chatcast.links.tracked_links`); None: they go out as they are."""
    unpaced = {name: 0.0 for channel in channels for name in (channel, f"{channel}/chat")}
    return Dispatcher(
        channels,
        worker=worker,
        rates=rates(settings) if paced else unpaced,
        caps=caps(settings),
        suppression=suppression(settings),
        shared_limits=settings.redis_url if paced else None,
        metrics=metrics,
        clock=clock,
        sleep=sleep,
        heartbeat=claim_heartbeat(settings),
        links=links,
    )


def claim_heartbeat(settings: Settings) -> float:
    """Seconds between renewals of a dispatcher's claims: well before a sweep's cutoff (the claim timeout)."""
    return min(HEARTBEAT, settings.claim_timeout_seconds / 4)


def load_knowledge(settings: Settings) -> Knowledge:
    """The shop's knowledge file, or none (the shop's name only) where it is absent."""
    if settings.knowledge_file.is_file():
        return load_knowledge_file(settings.knowledge_file)
    log.warning("no knowledge file at %s: the assistant has no policies to quote", settings.knowledge_file)
    return Knowledge(shop=Shop(name=settings.shop_name))


def build_assistant(
    settings: Settings,
    channels: dict[str, Channel],
    staff: StaffAlerts | None,
    *,
    client: AsyncOpenAI | None = None,
    public_url: str | None = None,
) -> Assistant:
    """The shop assistant: the model's with an OpenAI key (or client), else the offline one; VADER sentiment
    offline, the model's with a key."""
    knowledge = load_knowledge(settings)
    client = client or openai_client(settings)
    name = knowledge.shop.name if settings.knowledge_file.is_file() else settings.shop_name
    model = OpenAIAssistant(client, settings.openai_model, shop=name) if client is not None else None
    sentiment = OpenAISentiment(client, settings.openai_model) if client is not None else LexiconSentiment()
    config = AssistantConfig(shop_name=name, public_url=public_url)
    return Assistant(knowledge, model=model, sentiment=sentiment, staff=staff, channels=channels, config=config)


def watch_assistant(metrics: Metrics, assistant: Assistant) -> None:
    """Count the assistant's answers and its models' tokens in ``metrics``."""
    assistant.on_answer = lambda how: metrics.answers.labels(how).inc()
    model, sentiment = assistant.model, assistant.sentiment
    if model is not None:
        metrics.count_tokens("assistant", lambda: model.tokens)
    if isinstance(sentiment, OpenAISentiment):
        metrics.count_tokens("sentiment", lambda: sentiment.tokens)


KEEP_UPDATES_DAYS = 7.0


def assistant_jobs(settings: Settings, channels: dict[str, Channel]) -> list[PeriodicJob]:
    """The assistant's scheduled work: feedback questions after orders, stale hand-offs given back, and the
    inbound updates' ids forgotten after a week (a redelivery comes within hours)."""
    jobs = [
        PeriodicJob("handoffs", release_stale_handoffs, 600, (settings.handoff_release_hours,)),
        PeriodicJob("inbound-updates", prune_received, 3600, (KEEP_UPDATES_DAYS,)),
    ]
    if settings.feedback_after_days is not None:
        jobs.append(PeriodicJob("feedback", ask_for_feedback, 3600, (channels, settings.feedback_after_days)))
    return jobs


@dataclass
class Bots:
    """The configured chat platforms: their channels (for sending), what receives their updates, the assistant."""

    inbound: Inbound
    # sent by the dispatcher once it is attached; a reply is plain text, written for each channel as it needs
    replies: QueuedReplies = field(default_factory=lambda: QueuedReplies(texts=data_texts()))
    channels: dict[str, Channel] = field(default_factory=dict)
    bots: dict[str, ChannelBot] = field(default_factory=dict)  # by channel, in the registry's order
    assistant: Assistant | None = None

    @property
    def staff(self) -> StaffAlerts | None:
        """Where alerts and hand-offs go: the first channel that hosts the shop's people, if any."""
        return next((bot.staff for bot in self.bots.values() if bot.staff is not None), None)


@asynccontextmanager
async def open_bots(
    settings: Settings, *, public_url: str | None = None, assistant: bool = True
) -> AsyncIterator[Bots]:
    """The bots the settings configure (none without tokens), open for the block and closed after it; customers'
    words go to the assistant (unless ``assistant`` is False: sending only)."""
    bots = Bots(Inbound(secret(settings.link_secret)))
    wiring = Wiring(bots.inbound, InstallationStore(), settings.shop_name, StoredUpdates(), bots.replies)
    async with AsyncExitStack() as stack:
        for spec in CHANNELS:
            bot = await stack.enter_async_context(spec.open(settings, wiring))
            if bot is not None:
                bots.bots[spec.name] = bot
                bots.channels[spec.name] = bot.channel
        if assistant:
            staff_channels = paced(settings, bots.channels)  # a staff member's words share the channel's limits
            bots.assistant = build_assistant(settings, staff_channels, bots.staff, public_url=public_url)
            bots.inbound.responder = bots.assistant
        yield bots


@asynccontextmanager
async def open_channels(settings: Settings) -> AsyncIterator[dict[str, Channel]]:
    """The channels the settings configure (none without tokens), open for the block and closed after it."""
    async with open_bots(settings, assistant=False) as bots:
        yield bots.channels

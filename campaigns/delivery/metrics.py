"""Prometheus metrics of one process: sends by channel and outcome, send latency, rate-limit waits, the queue, and
the tokens (and their cost) that the writer, the assistant and the sentiment model used.

Each :class:`Metrics` has its own registry (nothing global): the root makes one, hands it to the dispatcher and
registers what it can read back (token totals) as sources; ``serve`` renders it at ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

OUTCOMES = ("sent", "failed", "unknown", "retried", "rate_limited", "unreachable", "skipped", "capped", "suppressed")


class _Totals(Collector):
    """Counters read at scrape time from running totals (tokens used by each model user)."""

    def __init__(self, usd_per_million: float) -> None:
        self.sources: dict[str, Callable[[], int]] = {}
        self.usd_per_million = usd_per_million

    def collect(self) -> Iterator[Metric]:
        tokens = CounterMetricFamily("chatcast_llm_tokens", "Tokens the model calls used.", labels=["purpose"])
        cost = CounterMetricFamily(
            "chatcast_llm_cost_usd", "Estimated cost of those tokens (CHATCAST_LLM_USD_PER_MILLION_TOKENS).",
            labels=["purpose"],
        )  # fmt: skip
        for purpose, read in sorted(self.sources.items()):
            used = read()
            tokens.add_metric([purpose], used)
            cost.add_metric([purpose], used * self.usd_per_million / 1_000_000)
        yield tokens
        yield cost


class Metrics:
    """The process's metrics."""

    def __init__(self, *, usd_per_million_tokens: float = 0.6) -> None:
        self.registry = CollectorRegistry()
        self.sends = Counter(
            "chatcast_sends", "Deliveries handled, by channel and outcome.", ["channel", "outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.send_seconds = Histogram(
            "chatcast_send_seconds", "Time of one send call to the platform.", ["channel"], registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.rate_waits = Counter(
            "chatcast_rate_limit_waits", "Times a send waited for the rate limiter.", ["channel"],
            registry=self.registry,
        )  # fmt: skip
        self.queue = Gauge(
            "chatcast_queue_depth", "Deliveries due now and not yet sent, by channel.", ["channel"],
            registry=self.registry,
        )  # fmt: skip
        self.answers = Counter(
            "chatcast_assistant_answers", "Customer messages the assistant answered, by how.", ["how"],
            registry=self.registry,
        )  # fmt: skip
        self._totals = _Totals(usd_per_million_tokens)
        self.registry.register(self._totals)

    def count_tokens(self, purpose: str, read: Callable[[], int]) -> None:
        """Report ``read()`` (a running total) as the tokens used for ``purpose``."""
        self._totals.sources[purpose] = read

    def set_queue(self, depths: Mapping[str, int]) -> None:
        """The queue depth per channel, as read now."""
        for channel, depth in depths.items():
            self.queue.labels(channel).set(depth)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)

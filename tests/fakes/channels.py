"""A channel for dispatcher tests that accepts every message and keeps what it sent, when, to whom."""

from __future__ import annotations

from datetime import datetime

from campaigns.ports import ChannelLimits, OutboundMessage, SendReceipt
from tests.fakes.clock import Clock


class RecordingChannel:
    """Accepts every message and notes when (by the clock) it went to whom; ``messages`` keeps each whole."""

    name = "telegram"
    limits = ChannelLimits(4096, None, None, 0, 0)

    def __init__(self, clock: Clock[datetime]) -> None:
        self.clock = clock
        self.sent: list[tuple[int | None, str, datetime]] = []  # (campaign id, address, when)
        self.messages: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendReceipt:
        self.messages.append(message)
        self.sent.append((message.campaign_id, message.address, self.clock()))
        return SendReceipt((str(len(self.sent)),), self.clock(), message.address)

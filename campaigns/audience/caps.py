"""Frequency caps: at most so many marketing messages per customer per day and per week, across campaigns.

The shop's cap comes from settings; a campaign's ``frequency_cap`` replaces it for that campaign's rows. Only
deliveries count (campaign messages): the assistant's replies are not deliveries and never count, and order
notices (transactional) neither count nor are capped. A capped row
either waits (``wait``: it is requeued until the oldest counted message leaves the window, without spending
an attempt) or is skipped with the note ``frequency_cap`` (``skip``); it is never lost silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.file.definition import FrequencyCap
from campaigns.file.loader import registered
from storage import outbox
from storage.outbox import Claimed

DAY, WEEK = timedelta(days=1), timedelta(days=7)


@dataclass(frozen=True)
class Capped:
    """A claimed row held back: until when (``wait``), or None when it is skipped."""

    row: Claimed
    until: datetime | None


class Caps:
    """The shop's cap and each campaign's own, applied to claimed rows."""

    def __init__(self, shop: FrequencyCap) -> None:
        self.shop = shop
        self._campaigns: dict[int, FrequencyCap] = {}

    async def for_campaign(self, campaign_id: int) -> FrequencyCap:
        """The cap of a campaign's rows (read from its registered YAML once)."""
        if campaign_id not in self._campaigns:
            if await outbox.is_transactional(campaign_id):
                cap = FrequencyCap()  # transactional: order notices are never capped
            else:
                campaign = await registered(campaign_id)
                own = campaign.frequency_cap if campaign else None
                cap = own or self.shop
            self._campaigns[campaign_id] = cap
        return self._campaigns[campaign_id]

    async def split(self, rows: Sequence[Claimed], now: datetime) -> tuple[list[Claimed], list[Capped]]:
        """The rows that may go now, and those the caps hold back (rows of one batch count against each other)."""
        caps = {row.campaign_id: await self.for_campaign(row.campaign_id) for row in rows}
        if not any(cap.active for cap in caps.values()):
            return list(rows), []
        recent = await outbox.recent_sends(sorted({r.customer_id for r in rows}), now - WEEK)
        allowed: list[Claimed] = []
        held: list[Capped] = []
        for row in rows:
            cap = caps[row.campaign_id]
            sends = recent.setdefault(row.customer_id, [])
            day = sorted(t for t in sends if t > now - DAY)
            week = sorted(t for t in sends if t > now - WEEK)
            until = None
            if cap.day is not None and len(day) >= cap.day:
                until = day[len(day) - cap.day] + DAY
            if cap.week is not None and len(week) >= cap.week:
                until = max(until or now, week[len(week) - cap.week] + WEEK)
            if until is None:
                allowed.append(row)
                sends.append(now)
            else:
                held.append(Capped(row, until if cap.action == "wait" else None))
        return allowed, held

"""Unhappy customers get no promotions: those with an open complaint, or whose recent words are strongly negative.

The shop's rule (``CHATCAST_SUPPRESS_UNHAPPY``, on by default) applies to every campaign row at planning and
again when the row is claimed for sending, so a complaint opened after planning still stops the send. A
suppressed row is ``skipped`` with the note :data:`OPEN_COMPLAINT` or :data:`NEGATIVE_FEEDBACK` (reports count
them by reason). It ends when the complaint is resolved: only words said after the last resolution count, and a
re-plan gives the campaign's suppressed rows another chance. A campaign opts out only explicitly, with
``audience: {suppress_unhappy: false}`` (and ``true`` suppresses even where the shop's rule is off).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.file.definition import Campaign
from campaigns.file.loader import registered
from storage import outbox
from storage.db import dialect
from storage.outbox import Claimed
from storage.sql import Params, fetch

OPEN_COMPLAINT = "suppressed: open complaint"
NEGATIVE_FEEDBACK = "suppressed: negative feedback"


@dataclass(frozen=True)
class Unhappy:
    """The shop's rule: on or off, and the mean sentiment over ``days`` at or below which words suppress."""

    enabled: bool = True
    days: int = 30
    sentiment: float = -0.4

    def applies(self, campaign: Campaign) -> bool:
        """Whether the rule applies to ``campaign`` (its ``suppress_unhappy`` over the shop's setting)."""
        own = campaign.audience.suppress_unhappy
        return self.enabled if own is None else own


def unhappy_sql(rule: Unhappy, p: Params, now: datetime, customers: Sequence[int] | None = None) -> str:
    """A query of ``(id, why)``: every unhappy customer (or those of ``customers``) and the note of their rows."""
    since, until = p.moment(now - timedelta(days=rule.days)), p.moment(now)

    def scope(column: str) -> str:
        return f" AND {column} IN ({', '.join(p.add(int(c)) for c in customers)})" if customers else ""

    # feedback is kept from a chat message at the same moment: that message is not counted twice
    words = (
        "SELECT m.customer_id, m.sentiment AS score, m.at FROM chat_message m WHERE m.role = 'customer'"
        f" AND m.sentiment IS NOT NULL AND m.at > {since} AND m.at <= {until}{scope('m.customer_id')}"
        " AND NOT EXISTS (SELECT 1 FROM feedback b WHERE b.customer_id = m.customer_id AND b.at = m.at)"
        f" UNION ALL SELECT b.customer_id, b.sentiment, b.at FROM feedback b WHERE b.at > {since}"
        f" AND b.at <= {until}{scope('b.customer_id')}"
    )
    # words said before the customer's last resolution no longer count
    cleared = "(SELECT MAX(e.at) FROM event e WHERE e.customer_id = w.customer_id AND e.type = 'complaint_resolved')"
    is_open = "SELECT k.customer_id FROM complaint k WHERE k.resolved_at IS NULL"
    return (
        f"SELECT k.customer_id AS id, '{OPEN_COMPLAINT}' AS why FROM complaint k WHERE k.resolved_at IS NULL"
        f"{scope('k.customer_id')} GROUP BY k.customer_id"
        f" UNION ALL SELECT w.customer_id, '{NEGATIVE_FEEDBACK}' FROM ({words}) w"
        f" WHERE w.at > COALESCE({cleared}, {since}) AND w.customer_id NOT IN ({is_open}{scope('k.customer_id')})"
        f" GROUP BY w.customer_id HAVING AVG(w.score) <= {p.number(rule.sentiment)}"
    )


async def unhappy(rule: Unhappy, customers: Sequence[int], now: datetime) -> dict[int, str]:
    """Which of ``customers`` are unhappy now, with the note their rows get."""
    if not customers:
        return {}
    p = Params(dialect())
    return {int(i): str(why) for i, why in await fetch(unhappy_sql(rule, p, now, customers), p.values)}


class Suppression:
    """The shop's rule applied to claimed rows, each campaign's opt-out read from its registered YAML once."""

    def __init__(self, rule: Unhappy) -> None:
        self.rule = rule
        self._applies: dict[int, bool] = {}

    async def applies(self, campaign_id: int) -> bool:
        """Whether the campaign's rows are suppressed for unhappy customers."""
        if campaign_id not in self._applies:
            if await outbox.is_transactional(campaign_id):  # transactional: an unhappy customer still hears "shipped"
                self._applies[campaign_id] = False
                return False
            campaign = await registered(campaign_id)
            self._applies[campaign_id] = self.rule.applies(campaign) if campaign else self.rule.enabled
        return self._applies[campaign_id]

    async def split(self, rows: Sequence[Claimed], now: datetime) -> tuple[list[Claimed], list[tuple[int, str]]]:
        """The rows that may go, and (row id, note) of those suppressed now."""
        subject = [row for row in rows if await self.applies(row.campaign_id)]
        found = await unhappy(self.rule, sorted({row.customer_id for row in subject}), now)
        if not found:
            return list(rows), []
        held = [(row.id, found[row.customer_id]) for row in subject if row.customer_id in found]
        gone = {row_id for row_id, _ in held}
        return [row for row in rows if row.id not in gone], held

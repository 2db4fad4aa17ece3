"""The planned audience read, not planned: a few of its members for preview and test-send, and why nobody (or one
customer) is in it. Both read the planner's own selection (:func:`campaigns.audience.planner.selection`), so
preview shows exactly whom a launch would plan, on the chat and in the variant the planner would choose;
nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.audience.planner import Selection, selection
from campaigns.audience.suppression import Unhappy
from campaigns.file.definition import Campaign
from segments.definitions import Definitions
from storage.errors import ChatcastError
from storage.sql import fetch


class NotInAudience(ChatcastError, LookupError):
    """Nobody (or not the customer asked for) would get the campaign; the message says why."""


@dataclass(frozen=True)
class Member:
    """A customer the planner would plan, with the row it would give them (chat, variant, copy_test arm)."""

    customer_id: int
    external_id: str
    name: str
    language: str
    persona: str | None
    channel: str
    address: str
    variant: str
    copy_arm: str | None


async def sample(
    campaign: Campaign,
    definitions: Definitions,
    *,
    as_of: datetime,
    unhappy: Unhappy | None = None,
    personas: Sequence[str] = (),
    customer: str | None = None,
    limit: int = 1,
) -> list[Member]:
    """Up to ``limit`` members for each persona and variant, lowest ids first (or the one ``customer``), leaving
    out whom the planner holds out or suppresses; :class:`NotInAudience` when there is nobody to show."""
    chosen = selection(campaign, definitions, as_of=as_of, unhappy=unhappy)
    sql, p = chosen.sql, chosen.params
    where = _narrowed(chosen, personas, customer)
    rows = await fetch(
        "SELECT id, external_id, name, language, persona, channel, address, variant, copy_arm FROM ("
        f"SELECT c.id, c.external_id, c.name, c.language, c.persona, ci.channel, ci.address, {sql.variant} AS variant,"
        f" {sql.copy_arm} AS copy_arm, ROW_NUMBER() OVER (PARTITION BY c.persona, {sql.variant} ORDER BY c.id) AS n"
        f"{chosen.body}{where} AND {chosen.why} IS NULL AND NOT {sql.holdout}"
        f") s WHERE n <= {int(limit)} ORDER BY persona, variant, id",
        p.values,
    )
    found = [
        Member(int(i), str(e), str(n or ""), str(lang or "en"), None if per is None else str(per), str(ch), str(a),
               str(v), None if arm is None else str(arm))
        for i, e, n, lang, per, ch, a, v, arm in rows
    ]  # fmt: skip
    if not found:
        raise NotInAudience(await _why_not(campaign, definitions, as_of, unhappy, personas, customer))
    return found


def _narrowed(chosen: Selection, personas: Sequence[str], customer: str | None) -> str:
    """More conditions on ``c``: one customer by their shop id, or some personas only."""
    p = chosen.params
    if customer is not None:
        return f" AND c.external_id = {p.text(customer)}"
    return f" AND c.persona IN {p.texts(personas)}" if personas else ""


async def _why_not(
    campaign: Campaign,
    definitions: Definitions,
    as_of: datetime,
    unhappy: Unhappy | None,
    personas: Sequence[str],
    customer: str | None,
) -> str:
    """Why nobody of ``personas`` (or not ``customer``) is in the planned audience, counted stage by stage."""
    chosen = selection(campaign, definitions, as_of=as_of, unhappy=unhappy)
    sql, where = chosen.sql, _narrowed(chosen, personas, customer)
    kept = f"{sql.include} AND NOT {sql.exclude}"
    ready = f"{kept} AND {sql.consent} AND {sql.reachable}"
    stages = [
        sql.include,
        f"{sql.include} AND {sql.exclude}",
        f"{kept} AND NOT {sql.consent}",
        f"{kept} AND {sql.consent} AND NOT {sql.reachable}",
        f"{ready} AND {chosen.why} IS NOT NULL",
        f"{ready} AND {chosen.why} IS NULL AND {sql.holdout}",
    ]
    sums = ", ".join(f"COALESCE(SUM(CASE WHEN {s} THEN 1 ELSE 0 END), 0)" for s in stages)
    [row] = await fetch(
        f"SELECT MAX(c.persona), COUNT(*), {sums}{chosen.customers} WHERE TRUE{where}", chosen.params.values
    )
    persona, (total, matched, *removed) = row[0], (int(v) for v in row[1:])
    channels = " or ".join(campaign.channels)
    held = f"held out ({campaign.audience.holdout:.0%} of the audience, kept unsent to measure the lift)"
    reasons = [  # (one of them, several): the planner's stages in its order
        ("is excluded (exclude_personas, exclude_segments)", "are excluded (exclude_personas, exclude_segments)"),
        ("has not opted in (or opted out since)", "have not opted in (or opted out since)"),
        (f"has no reachable chat on {channels}", f"have no reachable chat on {channels}"),
        ("is suppressed (an open complaint or strongly negative recent words)",
         "are suppressed (an open complaint or strongly negative recent words)"),
        (f"is {held}", f"are {held}"),
    ]  # fmt: skip
    if customer is not None:
        if not total:
            return f"no customer {customer!r}"
        lead = f"{customer} is not in the planned audience of {campaign.id}"
        if not matched:
            return f"{lead}: their persona ({persona or 'none yet'}) is not among its personas and segments"
        why = next((many for n, (_, many) in zip(removed, reasons, strict=True) if n), "")
        return f"{lead}: they {why}" if why else lead
    whom = f" of persona {', '.join(personas)}" if personas else ""
    if not total:
        if personas:
            return f"no customer has persona {', '.join(personas)} (run `chatcast segments refresh`?)"
        return "there are no customers yet: import them, then run `chatcast segments refresh`"
    if not matched:
        return f"nobody{whom} is in the campaign's personas and segments ({_named(campaign)})"
    parts = [f"{n} {one if n == 1 else many}" for n, (one, many) in zip(removed, reasons, strict=True) if n]
    lead = f"nobody{whom} is in the planned audience: of {matched} customers in its personas and segments"
    return f"{lead}, {', '.join(parts)}"


def _named(campaign: Campaign) -> str:
    """The campaign's personas and segments, as a marketer wrote them."""
    aud = campaign.audience
    named = [f"personas {', '.join(aud.personas)}"] if aud.personas else []
    named += [f"segments {', '.join(aud.segments)}"] if aud.segments else []
    return "; ".join(named) or "everyone"

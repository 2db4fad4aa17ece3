"""Planning: a campaign's audience becomes ``Delivery`` rows, by one ``INSERT ... SELECT`` in the database.

No customer passes through Python, so memory stays flat as the audience grows. The unique key (campaign,
step, customer) and ``ON CONFLICT DO NOTHING`` make planning idempotent: a re-plan adds only customers who
became eligible since (opted in, linked a chat), never anyone twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from campaigns.audience.sql import AudienceSql, audience_sql
from campaigns.audience.suppression import Unhappy, unhappy_sql
from campaigns.file.definition import Campaign
from segments.audience import compiler_for
from segments.compiler import FROM
from segments.definitions import Definitions
from storage import db
from storage.errors import ChatcastError
from storage.models import Campaign as CampaignRow
from storage.sql import Params, execute, fetch

FROZEN = ("running", "done", "cancelled")  # a changed YAML is refused in these
CLOSED = ("done", "cancelled")  # nobody is planned in these
NO_PERSONA = "(none)"  # the key of customers without a persona (segments never refreshed) in the counts


class PlanError(ChatcastError):
    """The campaign cannot be registered or planned as asked."""


@dataclass
class PlanResult:
    """What one plan() did: audience = excluded + no_consent + unreachable + already_planned + planned + holdout
    + suppressed.

    ``channels``, ``variants`` and ``personas`` break down the rows planned now (holdout rows not included);
    ``suppressed_by`` the rows skipped now for unhappy customers, by note.
    """

    audience: int = 0
    excluded: int = 0
    no_consent: int = 0
    unreachable: int = 0
    already_planned: int = 0
    planned: int = 0
    holdout: int = 0
    suppressed: int = 0
    suppressed_by: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    variants: dict[str, int] = field(default_factory=dict)
    personas: dict[str, int] = field(default_factory=dict)


def yaml_hash(yaml_text: str) -> str:
    """The sha256 of a campaign file's text."""
    return hashlib.sha256(yaml_text.encode()).hexdigest()


async def register(campaign: Campaign, yaml_text: str) -> int:
    """Create or update the campaign's row (by key); return its id. A running or closed one keeps its YAML."""
    digest = yaml_hash(yaml_text)
    steps = len(campaign.follow_ups)
    row, created = await CampaignRow.get_or_create(
        key=campaign.id,
        defaults={"name": campaign.name, "yaml": yaml_text, "yaml_hash": digest, "follow_up_steps": steps},
    )
    if not created and row.yaml_hash != digest:
        if row.status in FROZEN:
            raise PlanError(f"campaign {campaign.id!r} is {row.status}: its YAML can no longer change")
        row.name, row.yaml, row.yaml_hash, row.follow_up_steps = campaign.name, yaml_text, digest, steps
        await row.save(update_fields=["name", "yaml", "yaml_hash", "follow_up_steps", "updated_at"])
    return int(row.id)


def _check(campaign: Campaign, definitions: Definitions) -> None:
    aud = campaign.audience
    unknown = [s for s in (*aud.segments, *aud.exclude_segments) if s not in definitions.segments]
    unknown += [p for p in (*aud.personas, *aud.exclude_personas) if p not in definitions.persona_ids()]
    if unknown:
        raise PlanError(f"campaign {campaign.id!r} names unknown personas or segments: {', '.join(unknown)}")


def _moment(p: Params, value: datetime | None) -> str:
    if value is None:
        return "NULL"
    return f"CAST({p.moment(value)} AS TIMESTAMPTZ)" if p.dialect == "postgres" else p.moment(value)


def _source(sql: AudienceSql) -> str:
    return FROM if sql.features else "customer c"


@dataclass(frozen=True)
class Selection:
    """The planned audience as parts of one query over ``c`` (the customer) and ``ci`` (the chat the planner
    reaches them on): what plan() inserts is what preview and test-send read, so the two cannot differ."""

    sql: AudienceSql
    params: Params
    unhappy_join: str  # `` LEFT JOIN (...) u``: the unhappy customers, where the rule applies; else empty

    @property
    def why(self) -> str:
        """SQL: the suppression note of ``c``, NULL when they are not suppressed."""
        return "u.why" if self.unhappy_join else "NULL"

    @property
    def customers(self) -> str:
        """``FROM`` every customer (with features where segments need them) and their suppression note."""
        return f" FROM {_source(self.sql)}{self.unhappy_join}"

    @property
    def body(self) -> str:
        """``FROM ... WHERE ...`` of every customer the planner gives a row, joined to the chat it reaches."""
        sql = self.sql
        return (
            f" FROM {_source(sql)} JOIN channel_identity ci ON ci.id = {sql.identity}{self.unhappy_join}"
            f" WHERE {sql.include} AND NOT {sql.exclude} AND {sql.consent}"
        )


def selection(
    campaign: Campaign, definitions: Definitions, *, as_of: datetime, unhappy: Unhappy | None = None
) -> Selection:
    """The campaign's audience compiled for this database (its personas and segments must exist)."""
    _check(campaign, definitions)
    compiler = compiler_for(definitions, db.dialect(), as_of)
    sql, p = audience_sql(campaign, definitions, compiler), compiler.params
    rule = unhappy or Unhappy()
    # suppression comes before the holdout split: neither group holds unhappy customers, so the lift compares
    unhappy_join = f" LEFT JOIN ({unhappy_sql(rule, p, as_of)}) u ON u.id = c.id" if rule.applies(campaign) else ""
    return Selection(sql, p, unhappy_join)


async def audience_zones(
    campaign: Campaign, definitions: Definitions, *, as_of: datetime, unhappy: Unhappy | None = None
) -> list[str | None]:
    """The time zones of the customers plan() would give a row, each once (None: customers without one)."""
    chosen = selection(campaign, definitions, as_of=as_of, unhappy=unhappy)
    return [row[0] for row in await fetch(f"SELECT DISTINCT c.timezone{chosen.body}", chosen.params.values)]


async def plan(
    campaign: Campaign,
    campaign_id: int,
    definitions: Definitions,
    *,
    as_of: datetime,
    step: str = "main",
    due_at: datetime | None = None,
    unhappy: Unhappy | None = None,
) -> PlanResult:
    """Add the campaign's eligible audience as ``planned`` (or ``holdout``) rows of ``step``, unhappy customers'
    as ``skipped`` with the reason (``unhappy``: the shop's rule, on by default); count the funnel."""
    _check(campaign, definitions)
    row = await CampaignRow.get_or_none(id=campaign_id)
    if row is None or row.key != campaign.id:
        raise PlanError(f"campaign {campaign.id!r} is not registered as id {campaign_id}")
    if row.status in CLOSED:
        raise PlanError(f"campaign {campaign.id!r} is {row.status}: nobody more can be planned")
    chosen = selection(campaign, definitions, as_of=as_of, unhappy=unhappy)
    sql, p, why = chosen.sql, chosen.params, chosen.why
    cid, name = int(campaign_id), p.text(step)
    # the unhappy are judged afresh: rows suppressed by an earlier plan are planned again if that has ended
    q = Params(p.dialect)
    await execute(
        f"DELETE FROM delivery WHERE campaign_id = {cid} AND step = {q.text(step)} AND status = 'skipped'"
        " AND note LIKE 'suppressed:%'",
        q.values,
    )
    since = int((await fetch("SELECT COALESCE(MAX(id), 0) FROM delivery"))[0][0])
    await execute(
        "INSERT INTO delivery (campaign_id, step, customer_id, channel, address, variant, persona, buttons,"
        " due_at, status, note, attempts, created_at, timing, copy_arm)"
        f" SELECT {cid}, {name}, c.id, ci.channel, ci.address, {sql.variant}, c.persona, '[]', {_moment(p, due_at)},"
        f" CASE WHEN {why} IS NOT NULL THEN 'skipped' WHEN {sql.holdout} THEN 'holdout' ELSE 'planned' END, {why},"
        f" 0, {_moment(p, datetime.now(UTC))}, {sql.timing}, {sql.copy_arm}{chosen.body}"
        # rows are numbered in the customers' order on both backends (a hash join would shuffle them on PostgreSQL):
        # equal due times go out in that order
        " ORDER BY c.id ON CONFLICT (campaign_id, step, customer_id) DO NOTHING",
        p.values,
    )
    result = await _funnel(campaign, definitions, as_of)
    q = Params(p.dialect)
    added = await fetch(
        "SELECT status, channel, variant, persona, note, COUNT(*) FROM delivery"
        f" WHERE campaign_id = {cid} AND step = {q.text(step)} AND id > {since}"
        " GROUP BY status, channel, variant, persona, note",
        q.values,
    )
    for status, channel, variant, persona, note, n in added:
        if status == "holdout":
            result.holdout += int(n)
            continue
        if status == "skipped":
            result.suppressed += int(n)
            result.suppressed_by[str(note)] = result.suppressed_by.get(str(note), 0) + int(n)
            continue
        result.planned += int(n)
        for counts, key in ((result.channels, channel), (result.variants, variant), (result.personas, persona)):
            label = NO_PERSONA if key is None else str(key)
            counts[label] = counts.get(label, 0) + int(n)
    eligible = result.audience - result.excluded - result.no_consent - result.unreachable
    result.already_planned = max(0, eligible - result.planned - result.holdout - result.suppressed)
    await execute(f"UPDATE campaign SET status = 'planned' WHERE id = {cid} AND status = 'draft'")
    return result


async def _funnel(campaign: Campaign, definitions: Definitions, as_of: datetime) -> PlanResult:
    """Count the matched customers, and those exclusions, consent and reachability remove, in one pass."""
    compiler = compiler_for(definitions, db.dialect(), as_of)
    sql, p = audience_sql(campaign, definitions, compiler), compiler.params
    kept = f"NOT {sql.exclude}"
    rows = await fetch(
        f"SELECT COUNT(*), COALESCE(SUM(CASE WHEN {sql.exclude} THEN 1 ELSE 0 END), 0),"
        f" COALESCE(SUM(CASE WHEN {kept} AND NOT {sql.consent} THEN 1 ELSE 0 END), 0),"
        f" COALESCE(SUM(CASE WHEN {kept} AND {sql.consent} AND NOT {sql.reachable} THEN 1 ELSE 0 END), 0)"
        f" FROM {_source(sql)} WHERE {sql.include}",
        p.values,
    )
    audience, excluded, no_consent, unreachable = (int(v) for v in rows[0])
    return PlanResult(audience=audience, excluded=excluded, no_consent=no_consent, unreachable=unreachable)

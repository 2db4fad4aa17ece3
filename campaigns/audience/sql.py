"""A campaign's audience as SQL over ``customer c``: who matches, who may be messaged where, and which arm.

Holdout and variant come from hash buckets computed in SQL with integer arithmetic only (no extension
function), so SQLite and PostgreSQL put every customer in the same bucket, and so does :func:`bucket`.
Every intermediate value stays below 2**63: SQLite would silently turn an overflow into a float.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from campaigns.file.definition import Campaign
from segments.compiler import Compiler
from segments.definitions import Definitions

BUCKETS = 10_000
_MOD = 2**32
_MUL = 2654435761  # Knuth's multiplicative constant; the customer id is first reduced below 2**31
_MUL2 = 1597334677  # below 2**31, so that h * _MUL2 + seed < 2**63 for h < 2**32
DEFAULT_VARIANT = "a"
SLUG = re.compile(r"[a-z][a-z0-9_-]{0,63}")


def seeds(key: str, salt: str) -> tuple[int, int]:
    """Two seeds for one campaign and purpose, from sha256 of its key: below 2**32 and 2**31."""
    digest = hashlib.sha256(f"{key}\x00{salt}".encode()).digest()
    return int.from_bytes(digest[:4], "big"), int.from_bytes(digest[4:8], "big") >> 1


def bucket(customer_id: int, seed: tuple[int, int]) -> int:
    """The bucket (0..9,999) of a customer, as :func:`bucket_sql` computes it in the database."""
    y = ((customer_id % 2**31) * _MUL + seed[0]) % _MOD
    h = (y * ((y // 65536) | 1)) % _MOD  # the non-linear step: consecutive ids land far apart
    return ((h * _MUL2 + seed[1]) % _MOD) * BUCKETS // _MOD


def bucket_sql(column: str, seed: tuple[int, int]) -> str:
    """SQL for :func:`bucket` of the integer ``column`` (both dialects divide integers as integers)."""
    y = f"((({column} % 2147483648) * {_MUL} + {seed[0]}) % {_MOD})"
    h = f"(({y} * (({y} / 65536) | 1)) % {_MOD})"
    return f"(((({h} * {_MUL2} + {seed[1]}) % {_MOD}) * {BUCKETS}) / {_MOD})"


def variant_bounds(campaign: Campaign) -> list[tuple[str, int]]:
    """Each variant with the bucket below which it is chosen (cumulative weights over 10,000 buckets)."""
    if not campaign.variants:
        return [(DEFAULT_VARIANT, BUCKETS)]
    total = sum(v.weight for v in campaign.variants)
    bounds, running = [], 0.0
    for v in campaign.variants:
        running += v.weight
        bounds.append((v.id, round(running / total * BUCKETS)))
    return bounds


def holdout_bound(campaign: Campaign) -> int:
    """Buckets below this are held out."""
    return round(campaign.audience.holdout * BUCKETS)


def arm_sql(campaign_key: str, salt: str, share: float, held: str, treated: str) -> str:
    """SQL that puts ``share`` of the customers in the ``held`` arm and the rest in ``treated``, by a hash bucket
    salted apart from the holdout's and the variants' (so the arms cut across them)."""
    bound = round(share * BUCKETS)
    hashed = bucket_sql("c.id", seeds(campaign_key, salt))
    return f"CASE WHEN {hashed} < {bound} THEN {_quote(held)} ELSE {_quote(treated)} END"


def _quote(slug: str) -> str:
    if not SLUG.fullmatch(slug):
        raise ValueError(f"not a slug: {slug!r}")
    return f"'{slug}'"


@dataclass(frozen=True)
class AudienceSql:
    """SQL fragments over ``c`` (and ``f`` when :attr:`features`), sharing the compiler's parameters."""

    include: str
    exclude: str
    consent: str
    reachable: str
    identity: str
    holdout: str
    variant: str
    features: bool
    timing: str = "NULL"  # send_time best: 'best' or 'fixed' (the control)
    copy_arm: str = "NULL"  # copy_test: 'llm' or 'template' (the control)


def audience_sql(campaign: Campaign, defs: Definitions, compiler: Compiler) -> AudienceSql:
    """Compile the campaign's audience, consent, reachability, holdout and variant for one query."""
    p, aud = compiler.params, campaign.audience
    include = [f"c.persona IN {p.texts(aud.personas)}"] if aud.personas else []
    if aud.segments:
        include.append("(" + " OR ".join(compiler.rule(defs.segments[s].when) for s in aud.segments) + ")")
    exclude = [f"((c.persona IN {p.texts(aud.exclude_personas)}) IS TRUE)"] if aud.exclude_personas else []
    exclude += [compiler.rule(defs.segments[s].when) for s in aud.exclude_segments]
    # channel names and variant ids are slugs (checked by the model): quoted inline, so that every query
    # using some of these fragments binds only the parameters it names
    channels = "(" + ", ".join(map(_quote, campaign.channels)) + ")"
    rank = " ".join(f"WHEN {_quote(name)} THEN {i}" for i, name in enumerate(campaign.channels))
    identities = f"channel_identity ci WHERE ci.customer_id = c.id AND ci.reachable AND ci.channel IN {channels}"
    schedule = campaign.schedule
    timing = "NULL"
    if schedule is not None and schedule.send_time == "best":
        timing = arm_sql(campaign.id, "send_time", schedule.send_time_control, "fixed", "best")
    copy_arm = "NULL"
    if campaign.copy_test:
        copy_arm = arm_sql(campaign.id, "copy_test", campaign.copy_test_share, "template", "llm")
    arms = variant_bounds(campaign)
    case = " ".join(f"WHEN {bucket_sql('c.id', seeds(campaign.id, 'variant'))} < {b} THEN {_quote(v)}" for v, b in arms)
    return AudienceSql(
        include=" AND ".join(include) or "TRUE",
        exclude="(" + " OR ".join(exclude) + ")" if exclude else "FALSE",
        consent="(c.opted_in_at IS NOT NULL AND (c.opted_out_at IS NULL OR c.opted_in_at > c.opted_out_at))",
        reachable=f"EXISTS (SELECT 1 FROM {identities})",
        identity=f"(SELECT ci.id FROM {identities} ORDER BY CASE ci.channel {rank} END, ci.id LIMIT 1)",
        holdout=f"{bucket_sql('c.id', seeds(campaign.id, 'holdout'))} < {holdout_bound(campaign)}",
        variant=f"CASE {case} ELSE {_quote(arms[-1][0])} END" if len(arms) > 1 else _quote(arms[0][0]),
        features=bool(aud.segments or aud.exclude_segments),
        timing=timing,
        copy_arm=copy_arm,
    )

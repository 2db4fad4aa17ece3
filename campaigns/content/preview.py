"""Previews: what customers of the planned audience will get, step by step, with the guardrails' verdicts.

The customers are the planner's (:mod:`campaigns.audience.members`): the same consent, exclusions, reachability, holdout
and suppression, each on the chat and in the variant the planner gives them. Their copy is written as the launch
writes it (:class:`campaigns.content.compose.Recipients`). Nothing is written to the database and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from campaigns.audience.members import Member, sample
from campaigns.audience.suppression import Unhappy
from campaigns.content.compose import MAIN, Addressed, Recipients, template_arm
from campaigns.content.writer import Copy, CopyWriter, Verdict
from campaigns.file.definition import Campaign, Image
from segments.definitions import Definitions
from storage.drafts import PlannedRow
from storage.errors import ChatcastError


@dataclass(frozen=True)
class Preview:
    """One rendered message: for whom, in which persona, variant and channel, and what the guardrails said."""

    customer: str
    persona: str
    variant: str
    channel: str
    copy: Copy
    verdicts: tuple[Verdict, ...]
    step: str = MAIN
    shortfall: str | None = None  # why the recommended products are fewer than asked
    image: Image | None = None  # the picture sent with the text (its caption)


class UnknownStep(ChatcastError, ValueError):
    """The campaign has no step of that name."""


def steps(campaign: Campaign) -> list[str]:
    """The steps a customer can get: the main message (each run's, in a recurring campaign), then each follow-up."""
    return [MAIN, *(f.id for f in campaign.follow_ups)]


def chosen_steps(campaign: Campaign, step: str | None) -> list[str]:
    """``step`` checked against the campaign's steps, or all of them; :class:`UnknownStep` names the known ones."""
    known = steps(campaign)
    if step is None:
        return known
    if step not in known:
        raise UnknownStep(f"{campaign.id} has no step {step!r} (its steps: {', '.join(known)})")
    return [step]


def planned_row(member: Member, variant: str | None = None) -> PlannedRow:
    """The row the planner would give ``member`` (not stored: id 0), in another ``variant`` if given."""
    return PlannedRow(0, member.customer_id, member.persona, variant or member.variant, member.channel, member.name,
                      member.language, member.copy_arm)  # fmt: skip


async def addressed(
    campaign: Campaign,
    definitions: Definitions,
    rows: Sequence[PlannedRow],
    step: str,
    *,
    as_of: datetime,
    shop_name: str,
    shop_url: str | None = None,
    text_limits: Mapping[str, int] | None = None,
) -> list[Addressed]:
    """The rows' briefs and recipients for ``step``, as the launch gives them to the writer."""
    recipients = await Recipients.of_step(
        campaign, definitions, step, as_of=as_of, shop_name=shop_name, shop_url=shop_url, text_limits=text_limits
    )
    return await recipients.address(rows)


async def previews(
    campaign: Campaign,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    as_of: datetime,
    personas: Sequence[str] = (),
    customer: str | None = None,
    limit: int = 1,
    step: str | None = None,
    shop_name: str = "our shop",
    shop_url: str | None = None,
    unhappy: Unhappy | None = None,
) -> list[Preview]:
    """Every step (or ``step``) for up to ``limit`` members of each persona and variant of the planned audience (or
    the one ``customer``); raises :class:`~campaigns.audience.members.NotInAudience` saying why when there is nobody."""
    wanted = chosen_steps(campaign, step)
    members = await sample(
        campaign, definitions, as_of=as_of, unhappy=unhappy, personas=personas, customer=customer, limit=limit
    )
    rows = [planned_row(m) for m in members]
    held = template_arm(writer)
    out: list[Preview] = []
    for name in wanted:
        step_rows = await addressed(
            campaign, definitions, rows, name, as_of=as_of, shop_name=shop_name, shop_url=shop_url,
            text_limits=writer.text_limits,
        )  # fmt: skip
        for member, one in zip(members, step_rows, strict=True):
            copy, verdicts = await (held if one.template_arm else writer).preview(one.brief, one.recipient)
            out.append(
                Preview(member.external_id, one.brief.persona, one.brief.variant, member.channel, copy,
                        tuple(verdicts), name, one.shortfall, one.image)
            )  # fmt: skip
    return out

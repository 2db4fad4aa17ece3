"""A proof: the message one customer of the planned audience would get, for the marketer's own chat, marked as a test.

It is written exactly as the launch writes that customer's row (their products, language, persona and variant,
unless another variant is asked for), but it is never sent to the customer, never stored as a delivery, and its
action buttons name no campaign: a press in the marketer's chat counts in no report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from campaigns.audience.members import Member, sample
from campaigns.audience.suppression import Unhappy
from campaigns.content.compose import MAIN, template_arm
from campaigns.content.preview import addressed, chosen_steps, planned_row
from campaigns.content.writer import Copy, CopyWriter
from campaigns.file.definition import Campaign, Image
from campaigns.ports import OutboundMessage
from segments.definitions import Definitions
from storage.errors import ChatcastError


class ProofError(ChatcastError, ValueError):
    """The proof cannot be made or sent as asked (an unknown variant, the customer's own chat)."""


@dataclass(frozen=True)
class Proof:
    """One customer's message for a step and variant, its picture, and why their products came up short (if they
    did)."""

    campaign: str
    member: Member
    step: str
    variant: str
    copy: Copy
    shortfall: str | None = None
    image: Image | None = None

    @property
    def mark(self) -> str:
        """The first line of the test message: what it is a test of, and whose message it shows."""
        return f"[TEST {self.campaign} · {self.step} · variant {self.variant} · as {self.member.external_id}]"

    def message(self, channel: str, address: str) -> OutboundMessage:
        """The marked message for the marketer's chat ``address`` on ``channel``; never the customer's own."""
        if (channel, address) == (self.member.channel, self.member.address):
            raise ProofError(
                f"{channel}:{address} is {self.member.external_id}'s own chat: a test goes to your chat, never to"
                " the customer's"
            )
        # no campaign id: a press of an action button is then no click of this campaign in any report
        text = f"{self.mark}\n{self.copy.text}"
        image_url, image_alt = (self.image.url, self.image.alt) if self.image else (None, None)
        return OutboundMessage(
            address, text, self.copy.buttons, image_url=image_url, image_alt=image_alt, campaign_id=None, step=self.step
        )


def variants(campaign: Campaign) -> list[str]:
    """The campaign's variant ids (the planner's ``a`` when it has none)."""
    return [v.id for v in campaign.variants] or ["a"]


async def proof(
    campaign: Campaign,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    as_of: datetime,
    customer: str | None = None,
    persona: str | None = None,
    step: str | None = None,
    variant: str | None = None,
    shop_name: str = "our shop",
    unhappy: Unhappy | None = None,
    shop_url: str | None = None,
    channel: str | None = None,
) -> Proof:
    """The message ``customer`` (or the first member of the audience, or of its ``persona``) gets at ``step``
    (default: the main message), in ``variant`` if given, written for ``channel`` (the marketer's chat's; default:
    the customer's); :class:`~campaigns.audience.members.NotInAudience` says why when they would get none."""
    [name] = chosen_steps(campaign, step or MAIN)
    if variant is not None and variant not in variants(campaign):
        raise ProofError(f"{campaign.id} has no variant {variant!r} (its variants: {', '.join(variants(campaign))})")
    personas = [persona] if persona and customer is None else []
    members = await sample(
        campaign, definitions, as_of=as_of, unhappy=unhappy, personas=personas, customer=customer, limit=1
    )
    member = min(members, key=lambda m: m.customer_id)  # with no customer asked for: the audience's first
    [one] = await addressed(campaign, definitions, [planned_row(member, variant)], name, as_of=as_of,
                            shop_name=shop_name, shop_url=shop_url, text_limits=writer.text_limits)  # fmt: skip
    recipient = replace(one.recipient, channel=channel) if channel else one.recipient
    copy = await (template_arm(writer) if one.template_arm else writer).compose(one.brief, recipient)
    return Proof(campaign.id, member, name, one.brief.variant, copy, one.shortfall, one.image)

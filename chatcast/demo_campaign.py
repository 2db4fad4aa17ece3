"""The demo's campaign: every channel's sandbox on loopback, simulated customers, a sample campaign through the
real adapters.

Customers opt in by the shop's deep links (Telegram ``/start TOKEN``, Slack ``/shop subscribe TOKEN``), a few
have blocked the bot, the campaign is planned, written and sent through the real aiogram and slack-sdk code (its
links tracked, through the playground's redirect), and some readers open its link or press "Not now" (the
sandboxes and the customers are :mod:`chatcast.playground` and :mod:`chatcast.shoppers`, which rehearsals share).
What happened is read back from the database as a funnel.
Then a customer chats with the shop assistant (offline, or the model with a key) about their order, ideas,
returns, and stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bots.registry import CHANNELS
from bots.sandbox.rig import Rig
from campaigns import launch as engine
from campaigns.content.writer import CopyWriter
from campaigns.ports import Responder
from chatcast.playground import playground
from chatcast.shoppers import DEMO, Shoppers
from segments.definitions import Definitions
from storage import campaigns as campaign_rows
from storage import rehearsals
from storage.models import ChannelIdentity

DEMO_RATES = {spec.name: 1000.0 for spec in CHANNELS}  # the sandboxes' limits are off: show the engine, not the wait
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class DemoRun:
    """What the simulated customers did and what the campaign did."""

    campaign: str
    opted_in: int = 0
    blocked: int = 0
    clicked: int = 0  # readers who opened the message's link (or pressed its button)
    snoozed: int = 0  # readers who pressed "Not now"
    funnel: dict[str, int] = field(default_factory=dict)
    chat: list[tuple[str, str]] = field(default_factory=list)  # (what the customer wrote, what the bot answered)
    chat_channel: str = CHANNELS[0].name  # where that customer chats: the first channel of the registry


QUESTIONS = ("Hi! Where is my order?", "What do you recommend for me?", "Can I return shoes I ran in?", "stop")


async def run_demo_campaign(
    campaign_file: Path,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    as_of: datetime,
    shop_name: str,
    shop_url: str | None = None,
    seed: int = 7,
    assistant: Responder | None = None,
) -> DemoRun:
    """Start the sandboxes and bots, let customers opt in, launch ``campaign_file``, let readers click, and let
    one customer chat with ``assistant``."""
    async with playground(shop_name=shop_name, responder=assistant) as play:
        shoppers = Shoppers(play, DEMO, seed)
        run = DemoRun(campaign_file.stem)
        run.opted_in = await shoppers.opt_in()
        run.blocked = await shoppers.block_some()
        prepared = await engine.prepare(
            campaign_file, definitions, writer, as_of=as_of, shop_name=shop_name, shop_url=shop_url
        )
        run.campaign = prepared.campaign.id
        await engine.send(prepared.campaign_id, play.channels, worker="demo", rates=DEMO_RATES, links=play.links)
        await shoppers.perform(shoppers.reactions(await rehearsals.sent_since(prepared.campaign_id, EPOCH)))
        run.clicked, run.snoozed = shoppers.done["click"], shoppers.done["snooze"]
        run.funnel = await campaign_rows.funnel(prepared.campaign_id)
        if assistant is not None:
            run.chat = await _chat(play.rigs[run.chat_channel])
        return run


async def _chat(rig: Rig) -> list[tuple[str, str]]:
    """A customer of ``rig``'s channel who has ordered asks the assistant a few things; the questions and the
    answers."""
    chats = [str(a) for a in await ChannelIdentity.filter(channel=rig.name, reachable=True,
                                                         customer__orders__id__not_isnull=True)
             .order_by("id").limit(1).values_list("address", flat=True)]  # fmt: skip
    said: list[tuple[str, str]] = []
    for address in chats:
        for question in QUESTIONS:
            before = len(rig.said(address))
            await rig.say(address, question)  # the bot answers once the engine is done
            said.append((question, "\n".join(rig.said(address)[before:])))
    return said

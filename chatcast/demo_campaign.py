"""The demo's campaign: both sandboxes on loopback, simulated customers, a sample campaign through the real adapters.

Customers opt in by the shop's deep links (Telegram ``/start TOKEN``, Slack ``/shop subscribe TOKEN``), a few
have blocked the bot, the campaign is planned, written and sent through the real aiogram and slack-sdk code,
and some readers press its buttons. What happened is read back from the database as a funnel. Then a customer
chats with the shop assistant (offline, or the model with a key) about their order, ideas, returns, and stops.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiohttp import web

from bots.sandbox import SlackSandbox, TelegramSandbox
from bots.slack.app import SlackConfig, build_slack
from bots.slack.channel import shared_session
from bots.telegram.app import add_webhook, build_bot, build_dispatcher, register_webhook
from bots.telegram.channel import TelegramChannel
from campaigns import launch as engine
from campaigns.inbound import Inbound
from campaigns.links import make_token
from campaigns.ports import Channel, InboundEvent, InboundHandler, Reply, Responder
from campaigns.writer import CopyWriter
from segments.definitions import Definitions
from storage import campaigns as campaign_rows
from storage.models import ChannelIdentity, Customer

LINK_SECRET = "demo-link-secret"
HOOK_SECRET = "demo-webhook-secret"
SLACK_TEAM = "T0SHOP01"
DEMO_RATES = {"telegram": 1000.0, "slack": 1000.0}  # the sandboxes' limits are off: show the engine, not the wait


class Tally:
    """The engine's inbound handler, counting what it handled so the demo can await Slack's (acked first) work."""

    def __init__(self, inner: InboundHandler) -> None:
        self.inner = inner
        self.counts: dict[str, int] = {}
        self._changed = asyncio.Condition()

    async def handle(self, event: InboundEvent) -> Reply | None:
        """Hand on; count the event's kind once handled."""
        try:
            return await self.inner.handle(event)
        finally:
            async with self._changed:
                self.counts[event.kind] = self.counts.get(event.kind, 0) + 1
                self._changed.notify_all()

    async def reached(self, kind: str, count: int) -> None:
        """Wait (at most half a minute) until ``count`` events of ``kind`` were handled."""
        async with asyncio.timeout(30), self._changed:
            await self._changed.wait_for(lambda: self.counts.get(kind, 0) >= count)


@dataclass
class DemoRun:
    """What the simulated customers did and what the campaign did."""

    campaign: str
    opted_in: int = 0
    blocked: int = 0
    clicked: int = 0
    funnel: dict[str, int] = field(default_factory=dict)
    chat: list[tuple[str, str]] = field(default_factory=list)  # (what the customer wrote, what the bot answered)


QUESTIONS = ("Hi! Where is my order?", "What do you recommend for me?", "Can I return shoes I ran in?", "stop")


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


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
    rng = random.Random(seed)
    inbound = Tally(Inbound(LINK_SECRET, responder=assistant))
    async with TelegramSandbox() as telegram, SlackSandbox() as slack, shared_session() as session:
        slack_token = slack.add_team(SLACK_TEAM, name=shop_name)
        slack_users = [
            str(a).split(":", 1)[1]
            for a in await ChannelIdentity.filter(channel="slack").values_list("address", flat=True)
        ]
        for user in slack_users:
            slack.add_user(SLACK_TEAM, str(user))
        bot = build_bot(telegram.token, api_url=telegram.base_url, timeout=10)
        slack_bot = build_slack(
            SlackConfig(signing_secret=slack.signing_secret, bot_token=slack_token, api_url=slack.base_url),
            inbound,
            session=session,
        )
        app = web.Application()
        add_webhook(app, bot, build_dispatcher(inbound), HOOK_SECRET)
        slack_bot.add_routes(app)
        runner, root = await _serve(app)
        try:
            await register_webhook(bot, f"{root}/telegram/webhook", HOOK_SECRET)
            slack.app_url = f"{root}/slack/events"
            run = DemoRun(campaign_file.stem)
            run.opted_in = await _opt_in(telegram, slack)
            await inbound.reached("start", run.opted_in)
            run.blocked = await _block(telegram, slack, rng)
            prepared = await engine.prepare(
                campaign_file, definitions, writer, as_of=as_of, shop_name=shop_name, shop_url=shop_url
            )
            run.campaign = prepared.campaign.id
            channels: dict[str, Channel] = {"telegram": TelegramChannel(bot), "slack": slack_bot.channel}
            await engine.send(prepared.campaign_id, channels, worker="demo", rates=DEMO_RATES)
            before = inbound.counts.get("click", 0)
            run.clicked = await _click(telegram, slack, rng)
            await inbound.reached("click", before + run.clicked)
            run.funnel = await campaign_rows.funnel(prepared.campaign_id)
            if assistant is not None:
                run.chat = await _chat(telegram)
            return run
        finally:
            await runner.cleanup()
            await bot.session.close()


async def _chat(telegram: TelegramSandbox) -> list[tuple[str, str]]:
    """A Telegram customer who has ordered asks the assistant a few things; the questions and the answers."""
    chats = [int(str(a)) for a in await ChannelIdentity.filter(channel="telegram", reachable=True,
                                                              customer__orders__id__not_isnull=True)
             .order_by("id").limit(1).values_list("address", flat=True)]  # fmt: skip
    said: list[tuple[str, str]] = []
    for chat_id in chats:
        for question in QUESTIONS:
            before = len(telegram.sent(chat_id))
            await telegram.user_sends(chat_id, question)  # the webhook answers once the engine is done
            said.append((question, "\n".join(m.text or "" for m in telegram.sent(chat_id)[before:])))
    return said


async def _opt_in(telegram: TelegramSandbox, slack: SlackSandbox) -> int:
    """Shop customers without consent follow the shop's link: half from Telegram, half from Slack."""
    quiet = await Customer.filter(opted_in_at=None).order_by("id").limit(40).values_list("external_id", "name")
    for n, (external_id, name) in enumerate(quiet):
        token = make_token(str(external_id), LINK_SECRET)
        first = str(name).split(" ")[0] or "Friend"
        if n % 2 == 0:
            await telegram.user_sends(900_000_000 + n, f"/start {token}", first_name=first)
        else:
            user = f"U9{n:08d}"
            slack.add_user(SLACK_TEAM, user, name=first.lower(), real_name=str(name))
            await slack.slash_command(SLACK_TEAM, user, "/shop", f"subscribe {token}")
    return len(quiet)


async def _block(telegram: TelegramSandbox, slack: SlackSandbox, rng: random.Random) -> int:
    """A few customers have blocked the bot or left the workspace since they opted in."""
    blocked = 0
    for channel, address in await ChannelIdentity.filter(reachable=True).values_list("channel", "address"):
        if rng.random() >= 0.03:
            continue
        blocked += 1
        if channel == "telegram":
            telegram.block(int(str(address)))
        else:
            slack.deactivate(SLACK_TEAM, str(address).split(":", 1)[1])
    return blocked


async def _click(telegram: TelegramSandbox, slack: SlackSandbox, rng: random.Random) -> int:
    """About one reader in six presses the message's action button (a click the engine records)."""
    clicks = 0
    for chat_id, messages in list(telegram.transcripts.items()):
        pressable = [m for m in messages if m.from_bot and m.reply_markup]
        if not pressable or rng.random() >= 1 / 6:
            continue
        message = pressable[-1]
        rows = message.reply_markup.get("inline_keyboard", []) if message.reply_markup else []
        data = next((b["callback_data"] for row in rows for b in row if "callback_data" in b), None)
        if data and data.startswith("a:") and not data.endswith(":stop"):
            await telegram.user_presses(chat_id, message.message_id, data)
            clicks += 1
    for user in {m.user_id for ms in slack.transcripts.values() for m in ms if m.user_id}:
        dm = slack.dm(SLACK_TEAM, str(user))
        buttons = [b for b in (dm[-1].buttons() if dm else []) if not str(b.get("value", "")).endswith("|stop")]
        if not buttons or rng.random() >= 1 / 6:
            continue
        await slack.press(SLACK_TEAM, str(user), dm[-1], buttons[0]["action_id"], buttons[0].get("value"))
        clicks += 1
    return clicks

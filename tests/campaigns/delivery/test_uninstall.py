"""A Slack workspace uninstalls the app in the middle of a broadcast, through the real slack-bolt app (OAuth, many
workspaces) and slack_sdk against the sandbox, on SQLite and PostgreSQL.

An uninstall is the workspace's doing, not its people's: the workspace is marked inactive (by Slack's
``app_uninstalled`` event, or by the first send Slack refuses with ``account_inactive``), its rows still unsent are
parked (skipped, ``workspace_uninstalled``) and none fails (no error ceiling is touched); nobody is opted out, no
chat becomes unreachable. The other workspaces' rows go out. A reinstall makes the workspace active again: the next
campaign reaches its customers; the parked rows stay skipped (docs/channels/slack.md says why).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bots.inbound.acts import Inbound
from bots.slack.app import SlackBot, SlackConfig, build_slack
from bots.slack.channel import address
from bots.slack.sandbox.server import SlackSandbox
from campaigns import launch
from campaigns.content.writer import CopyWriter
from campaigns.delivery.dispatcher import Dispatcher
from segments.definitions import parse
from storage import campaigns as campaign_rows
from storage.installations import PARKED
from storage.models import Campaign, ChannelIdentity, Customer, Delivery, Event, Installation
from tests.fakes.clock import Clock
from tests.fakes.dispatch_worker import NO_LIMITS
from tests.fakes.sandboxes import SIGNING
from tests.fakes.slack_app import WatchedInstallations, install, serve, subscribed

DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
GONE, STAYS = "T0GONE", "T0STAYS"
MEMBERS = {GONE: ("U0ANN", "U0BEN", "U0CAT", "U0DAN"), STAYS: ("U0EVA", "U0FIN", "U0GUS")}
CAMPAIGN = """\
id: KEY
name: KEY
channels: [slack]
message:
  brief: The new spring colours are in.
  template: 'Hi {{ customer.first_name }}: the new spring colours are in. {{ unsubscribe }}'
"""


@dataclass
class Shop:
    sandbox: SlackSandbox
    bot: SlackBot
    installations: WatchedInstallations
    root: str
    clock: Clock[datetime]

    def dispatcher(self) -> Dispatcher:
        """Two rows a batch; the error ceiling at zero, so that a single failed row would pause the campaign."""
        return Dispatcher(
            {"slack": self.bot.channel},
            worker="w1",
            batch=2,
            rates=NO_LIMITS,
            error_ceiling=0.0,
            error_min=1,
            clock=self.clock,
            sleep=self.clock.sleep,
            rng=random.Random(3),
        )

    async def launch(self, tmp_path: Path, key: str) -> int:
        path = tmp_path / f"{key}.yaml"
        path.write_text(CAMPAIGN.replace("KEY", key), encoding="utf-8")
        prepared = await launch.prepare(path, DEFS, CopyWriter(None), as_of=self.clock())
        await launch.set_status(prepared.campaign_id, "running")
        return prepared.campaign_id


@pytest.fixture
async def shop(database: str, slack_sandbox: SlackSandbox) -> AsyncIterator[Shop]:
    """Two workspaces that installed the app through OAuth, their members subscribed with ``/shop subscribe``."""
    installations = WatchedInstallations()
    config = SlackConfig(
        signing_secret=SIGNING, client_id="111.222", client_secret="oauth-secret", api_url=slack_sandbox.base_url
    )
    bot = build_slack(config, Inbound(None), installations)
    runner = await serve(bot, slack_sandbox)
    root = slack_sandbox.app_url.removesuffix("/slack/events")
    try:
        for team, users in MEMBERS.items():
            slack_sandbox.add_team(team, name=f"Team {team}")
            await install(slack_sandbox, root, team)
            for user in users:
                slack_sandbox.add_user(team, user, name=user.lower())
                # one at a time: the listener works after its ack, and the customers' order is the rows' order
                made = len(slack_sandbox.responses) + 1
                await slack_sandbox.slash_command(team, user, "/shop", "subscribe")
                await slack_sandbox.wait_for(lambda made=made: len(slack_sandbox.responses) >= made, timeout=10)
        yield Shop(slack_sandbox, bot, installations, root, Clock(datetime.now(UTC)))
    finally:
        await runner.cleanup()


async def rows(campaign_id: int) -> dict[str, tuple[str, str | None]]:
    """Each row's status and note, by its Slack user."""
    found = await Delivery.filter(campaign_id=campaign_id).order_by("id")
    return {(d.address or "").split(":")[1]: (d.status, d.note) for d in found}


async def nobody_left() -> None:
    """Everyone is still subscribed and reachable; no opt-out was recorded."""
    assert not await Event.filter(type="opted_out").exists()
    assert all(subscribed(c) for c in await Customer.all()) and await Customer.all().count() == 7
    assert all(i.reachable for i in await ChannelIdentity.all())


@pytest.mark.parametrize("how", ["app_uninstalled event", "account_inactive at send"])
async def test_an_uninstall_mid_broadcast_parks_that_workspace_and_changes_no_consent(
    shop: Shop, tmp_path: Path, how: str
) -> None:
    sandbox = shop.sandbox
    spring = await shop.launch(tmp_path, "spring")
    dispatcher = shop.dispatcher()
    assert await dispatcher.run_once() == 2  # the first two of the workspace that is about to leave
    first = {user for user, (status, _) in (await rows(spring)).items() if status == "sent"}
    assert first == {"U0ANN", "U0BEN"}

    if how == "app_uninstalled event":  # Slack tells the app: marked at once, and no later row is even tried
        assert await sandbox.uninstall(GONE) == [200, 200]
        assert {await shop.installations.next_mark(), await shop.installations.next_mark()} == {f":{GONE}"}
    else:  # nobody told us: the next send meets account_inactive, which marks it
        sandbox.revoke(GONE)
    stats = await dispatcher.drain()

    assert (stats.failed, stats.paused) == (0, [])
    parked = ("skipped", PARKED)
    assert await rows(spring) == {
        "U0ANN": ("sent", None),
        "U0BEN": ("sent", None),
        "U0CAT": parked,
        "U0DAN": parked,
        **{user: ("sent", None) for user in MEMBERS[STAYS]},
    }
    assert all(len(sandbox.dm(STAYS, user)) == 1 for user in MEMBERS[STAYS])
    assert not sandbox.dm(GONE, "U0CAT") and not sandbox.dm(GONE, "U0DAN")
    refused = [error for _, _, error in sandbox.errors]
    assert refused == ([] if how == "app_uninstalled event" else ["account_inactive"] * len(refused)) and (
        how == "app_uninstalled event" or 1 <= len(refused) <= 2  # at most the batch that found out
    )
    await nobody_left()
    gone = await Installation.get(channel="slack", workspace=f":{GONE}")
    assert not gone.active and gone.scope == f"{GONE}:"
    assert gone.inactive_reason in (("tokens_revoked", "app_uninstalled") if "event" in how else ("account_inactive",))
    assert (await Installation.get(channel="slack", workspace=f":{STAYS}")).active
    assert (await Campaign.get(id=spring)).status == "done"  # parked rows are final: the campaign ends
    funnel = await campaign_rows.funnel(spring)
    assert (funnel["sent"], funnel[f"skipped: {PARKED}"], funnel.get("failed", 0)) == (5, 2, 0)

    # a campaign launched while the workspace has no app: its rows there are parked as they fall due
    summer = await shop.launch(tmp_path, "summer")
    errors = len(sandbox.errors)
    stats = await shop.dispatcher().drain()
    assert (stats.sent, stats.skipped, stats.failed) == (3, 4, 0) and len(sandbox.errors) == errors
    assert {user for user, row in (await rows(summer)).items() if row == parked} == set(MEMBERS[GONE])

    # the workspace installs the app again: active, and the next campaign reaches everyone there; the parked rows
    # stay skipped (a broadcast does not arrive days late). The app still kept the old token's client: Slack
    # refuses it, the new token is read, and the row is retried with it.
    await install(sandbox, shop.root, GONE)
    back = await Installation.get(channel="slack", workspace=f":{GONE}")
    assert back.active and back.inactive_reason is None
    autumn = await shop.launch(tmp_path, "autumn")
    stats = await shop.dispatcher().drain()
    assert (stats.sent, stats.skipped, stats.failed, stats.paused) == (7, 0, 0, []), stats
    assert stats.requeued >= 1, stats  # the retry with the new token
    assert all(row == ("sent", None) for row in (await rows(autumn)).values())
    assert [len(sandbox.dm(GONE, user)) for user in MEMBERS[GONE]] == [2, 2, 1, 1]
    assert (await rows(spring))["U0CAT"] == parked
    await nobody_left()


async def test_a_person_leaving_a_workspace_still_opts_only_them_out(shop: Shop, tmp_path: Path) -> None:
    shop.sandbox.deactivate(GONE, "U0CAT")  # user_disabled: that person is gone, not the app
    spring = await shop.launch(tmp_path, "spring")
    stats = await shop.dispatcher().drain()
    assert (stats.sent, stats.failed) == (6, 0)
    assert (await rows(spring))["U0CAT"] == ("skipped", "deactivated")
    (left,) = await Event.filter(type="opted_out")
    assert left.data["reason"] == "deactivated"
    identity = await ChannelIdentity.get(address=address(GONE, "U0CAT"))
    assert not identity.reachable
    assert (await Installation.get(channel="slack", workspace=f":{GONE}")).active

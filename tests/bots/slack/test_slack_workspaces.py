"""Many workspaces (OAuth installations kept in our database), Socket Mode and the staff channel, end to end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.oauth.installation_store import Installation

from bots.slack.app import SlackBot, SlackConfig, Workspaces, build_slack
from bots.slack.channel import address
from bots.slack.installations import DatabaseInstallationStore
from bots.slack.sandbox.server import SlackSandbox
from campaigns.ports import ChannelUninstalled, OutboundMessage, PermanentChannelError, TransientChannelError
from storage.installations import InstallationStore
from storage.models import Installation as InstallationRow
from tests.fakes.sandboxes import SIGNING
from tests.fakes.slack_app import TEAM, USER, Watched, WatchedInstallations, customer, install, serve, subscribed

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
async def oauth_bot(slack_sandbox: SlackSandbox) -> AsyncIterator[tuple[SlackBot, str, Watched]]:
    """An app that many workspaces install through OAuth; yields it, its server's root URL and the engine."""
    inbound = Watched()
    config = SlackConfig(
        signing_secret=SIGNING, client_id="111.222", client_secret="oauth-secret", api_url=slack_sandbox.base_url
    )
    bot = build_slack(config, inbound, InstallationStore())
    runner = await serve(bot, slack_sandbox)
    yield bot, slack_sandbox.app_url.removesuffix("/slack/events"), inbound
    await runner.cleanup()


async def test_workspaces_install_by_oauth_and_each_is_served_with_its_own_token(
    slack_sandbox: SlackSandbox, oauth_bot: tuple[SlackBot, str, Watched]
) -> None:
    bot, root, inbound = oauth_bot
    for team in ("T0ONE", "T0TWO"):
        slack_sandbox.add_team(team, name=f"Team {team}")
        slack_sandbox.add_user(team, USER, name="mia")  # the same user id in two workspaces: two people
        await install(slack_sandbox, root, team)
    rows = await InstallationRow.filter(channel="slack").order_by("workspace")
    assert [r.workspace for r in rows] == [":T0ONE", ":T0TWO"]
    assert all(r.data["bot_token"].startswith("xoxb-") for r in rows)

    await slack_sandbox.slash_command("T0TWO", USER, "/shop", "subscribe")
    assert (await inbound.next()).address == address("T0TWO", USER)
    assert subscribed(await customer("T0TWO", USER))

    for team in ("T0ONE", "T0TWO"):
        await bot.channel.send(OutboundMessage(address=address(team, USER), text=f"Hello {team}"))
        assert slack_sandbox.dm(team, USER)[-1].text == f"Hello {team}"
    with pytest.raises(PermanentChannelError, match="not installed"):
        await bot.channel.send(OutboundMessage(address=address("T0GONE", USER), text="hi"))


async def test_a_forged_oauth_redirect_installs_nothing(
    slack_sandbox: SlackSandbox, oauth_bot: tuple[SlackBot, str, Watched]
) -> None:
    _, root, _ = oauth_bot
    slack_sandbox.add_team("T0EVIL")
    async with aiohttp.ClientSession() as browser:
        params = {"code": slack_sandbox.oauth_code("T0EVIL"), "state": "made.up.state"}
        async with browser.get(f"{root}/slack/oauth_redirect", params=params) as answer:
            assert answer.status >= 400
    assert await InstallationRow.all().count() == 0


async def test_an_uninstall_marks_the_workspace_inactive_and_a_reinstall_brings_it_back(
    slack_sandbox: SlackSandbox,
) -> None:
    installations = WatchedInstallations()
    inbound = Watched()
    config = SlackConfig(
        signing_secret=SIGNING, client_id="111.222", client_secret="oauth-secret", api_url=slack_sandbox.base_url
    )
    bot = build_slack(config, inbound, installations)
    runner = await serve(bot, slack_sandbox)
    root = slack_sandbox.app_url.removesuffix("/slack/events")
    try:
        for team in ("T0ONE", "T0TWO"):
            slack_sandbox.add_team(team)
            slack_sandbox.add_user(team, USER)
            await install(slack_sandbox, root, team)
        # a user's own token revoked is not the app's: the workspace keeps it
        revoked = {
            "team_id": "T0ONE",
            "api_app_id": "A0SANDBOX",
            "type": "event_callback",
            "event_id": "EvREVOKED",
            "event_time": 1,
            "event": {"type": "tokens_revoked", "tokens": {"bot": [], "oauth": [USER]}},
        }
        assert (await slack_sandbox.post(json.dumps(revoked)))[0] == 200
        await slack_sandbox.user_sends("T0ONE", USER, "still here")  # handled after the revocation's listener
        await inbound.next()

        # T0TWO uninstalls the app: Slack sends tokens_revoked and app_uninstalled, each acknowledged with 200
        assert await slack_sandbox.uninstall("T0TWO") == [200, 200]
        assert [await installations.next_mark(), await installations.next_mark()] == [":T0TWO", ":T0TWO"]
        rows = {r.workspace: r for r in await InstallationRow.all()}
        assert sorted(rows) == [":T0ONE", ":T0TWO"]  # kept, not forgotten
        assert rows[":T0ONE"].active and rows[":T0ONE"].inactive_reason is None
        gone = rows[":T0TWO"]
        assert not gone.active and gone.inactive_reason in ("tokens_revoked", "app_uninstalled")
        assert gone.scope == "T0TWO:" and gone.inactive_since is not None
        with pytest.raises(ChannelUninstalled, match="no longer installed in workspace T0TWO") as caught:
            await bot.channel.send(OutboundMessage(address("T0TWO", USER), "hi"))
        assert (caught.value.workspace, caught.value.scope) == (":T0TWO", "T0TWO:")
        assert slack_sandbox.errors == []  # known before asking Slack: nothing was tried there
        await bot.channel.send(OutboundMessage(address("T0ONE", USER), "still installed here"))
        assert slack_sandbox.dm("T0ONE", USER)[-1].text == "still installed here"

        # the workspace installs the app again: active, with its new token
        await install(slack_sandbox, root, "T0TWO")
        back = await InstallationRow.get(workspace=":T0TWO")
        assert back.active and back.inactive_reason is None and back.inactive_since is None
        assert back.data["bot_token"] != gone.data["bot_token"]
        await bot.channel.send(OutboundMessage(address("T0TWO", USER), "welcome back"))
        assert slack_sandbox.dm("T0TWO", USER)[-1].text == "welcome back"
    finally:
        await runner.cleanup()


async def test_a_reinstall_while_the_old_token_is_kept_sends_with_the_new_one(
    slack_sandbox: SlackSandbox, oauth_bot: tuple[SlackBot, str, Watched]
) -> None:
    bot, root, _ = oauth_bot
    slack_sandbox.add_team("T0ONE")
    slack_sandbox.add_user("T0ONE", USER)
    await install(slack_sandbox, root, "T0ONE")
    await bot.channel.send(OutboundMessage(address("T0ONE", USER), "one"))  # its client is kept a minute
    slack_sandbox.revoke("T0ONE")  # uninstalled, and at once installed again: Slack told us nothing meanwhile
    await install(slack_sandbox, root, "T0ONE")
    with pytest.raises(TransientChannelError, match="reinstalled with a new token"):  # not an uninstall
        await bot.channel.send(OutboundMessage(address("T0ONE", USER), "two"))
    await bot.channel.send(OutboundMessage(address("T0ONE", USER), "two"))  # the retry, with the new token
    assert [m.text for m in slack_sandbox.dm("T0ONE", USER)] == ["one", "two"]
    assert (await InstallationRow.get(workspace=":T0ONE")).active


async def test_installations_round_trip_through_the_database(database: str) -> None:
    store = DatabaseInstallationStore(InstallationStore())
    installed = Installation(
        app_id="A1",
        team_id="T1",
        team_name="One",
        bot_token="xoxb-1",
        bot_id="B1",
        bot_user_id="UB1",
        bot_scopes=["chat:write", "im:write"],
        user_id="U1",
        installed_at=1_700_000_000.5,
    )
    await store.async_save(installed)
    found = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token == "xoxb-1" and found.bot_scopes == ["chat:write", "im:write"]
    assert found.installed_at == pytest.approx(1_700_000_000.5)
    bot = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_user_id == "UB1"
    await store.async_save(Installation(app_id="A1", team_id="T1", bot_token="xoxb-2", user_id="U1"))
    assert (await store.async_find_bot(enterprise_id=None, team_id="T1")).bot_token == "xoxb-2"  # type: ignore[union-attr]
    org = Installation(app_id="A1", enterprise_id="E1", bot_token="xoxb-org", user_id="U1", is_enterprise_install=True)
    await store.async_save(org)
    inside = await store.async_find_bot(enterprise_id="E1", team_id="T9")  # a team of the org
    assert inside is not None and inside.bot_token == "xoxb-org"
    await store.async_delete_bot(enterprise_id=None, team_id="T1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None


async def test_socket_mode_serves_the_same_listeners_without_a_public_url(slack_sandbox: SlackSandbox) -> None:
    token = slack_sandbox.add_team(TEAM)
    slack_sandbox.add_user(TEAM, USER)
    inbound = Watched()
    bot = build_slack(SlackConfig(signing_secret=SIGNING, bot_token=token, api_url=slack_sandbox.base_url), inbound)
    handler = bot.socket_mode(slack_sandbox.app_token)
    await handler.connect_async()
    try:
        status, _ = await slack_sandbox.slash_command(TEAM, USER, "/shop", "subscribe")
        assert status == 200
        await inbound.next()
        assert subscribed(await customer())
        await slack_sandbox.open_app_home(TEAM, USER)
        await slack_sandbox.wait_for(lambda: (TEAM, USER) in slack_sandbox.views, timeout=10)
        assert "Unsubscribe" in json.dumps(slack_sandbox.views[(TEAM, USER)])
    finally:
        await handler.close_async()


async def test_staff_alerts_reach_the_staff_channel_escaped(slack_sandbox: SlackSandbox) -> None:
    token = slack_sandbox.add_team(TEAM)
    staff_channel = "C0STAFF"
    slack_sandbox.add_channel(TEAM, staff_channel, name="shop-staff")
    config = SlackConfig(
        signing_secret=SIGNING, bot_token=token, api_url=slack_sandbox.base_url, staff_channel=staff_channel
    )
    bot = build_slack(config, Watched())
    assert bot.staff is not None
    await bot.staff.alert("Customer <@U0MIA> asks for a human: 'where is order #12?'", link="https://shop.example/c/7")
    (posted,) = slack_sandbox.messages(staff_channel)
    assert "&lt;@U0MIA&gt;" in json.dumps(posted.blocks)
    assert posted.buttons()[0]["url"] == "https://shop.example/c/7"


async def test_a_workspace_client_is_kept_a_while_then_read_again(database: str) -> None:
    now = [0.0]
    store = DatabaseInstallationStore(InstallationStore())
    workspaces = Workspaces(SlackConfig(signing_secret=SIGNING), store, ttl=60, clock=lambda: now[0])
    await store.async_save(Installation(app_id="A0", team_id="T0ONE", bot_token="xoxb-old", user_id="U1"))
    assert (await workspaces.client("T0ONE")).token == "xoxb-old"
    await store.async_save(Installation(app_id="A0", team_id="T0ONE", bot_token="xoxb-new", user_id="U1"))
    assert (await workspaces.client("T0ONE")).token == "xoxb-old"  # a broadcast reads no row per message
    now[0] = 61
    assert (await workspaces.client("T0ONE")).token == "xoxb-new"
    await store.async_delete_bot(enterprise_id=None, team_id="T0ONE")  # tokens_revoked
    now[0] = 200
    with pytest.raises(ChannelUninstalled, match=r"no longer installed in workspace T0ONE \(tokens_revoked\)"):
        await workspaces.client("T0ONE")
    with pytest.raises(LookupError, match="not installed"):
        await workspaces.client("T0NEVER")

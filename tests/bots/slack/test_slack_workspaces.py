"""Many workspaces (OAuth installations kept in our database), Socket Mode and the staff channel, end to end."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.oauth.installation_store import Installation

from bots.slack.app import SlackBot, SlackConfig, Workspaces, build_slack
from bots.slack.channel import address
from bots.slack.installations import DatabaseInstallationStore
from bots.slack.sandbox.server import SlackSandbox
from campaigns.ports import OutboundMessage, PermanentChannelError
from storage.installations import InstallationStore
from storage.models import Installation as InstallationRow
from tests.fakes.sandboxes import SIGNING
from tests.fakes.slack_app import TEAM, USER, Watched, customer, serve, subscribed

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


async def install(sandbox: SlackSandbox, root: str, team: str) -> None:
    """A workspace admin's browser going through the app's install page and Slack's redirect."""
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{root}/slack/install") as page:
            assert page.status == 200
            state = re.search(r"state=([^&\"']+)", await page.text())
            assert state is not None
            cookie = page.cookies["slack-app-oauth-state"]
        # the state cookie is Secure (the install page is served over https in production): hand it on as is
        params = {"code": sandbox.oauth_code(team), "state": state[1]}
        headers = {"Cookie": f"{cookie.key}={cookie.value}"}
        async with browser.get(f"{root}/slack/oauth_redirect", params=params, headers=headers) as done:
            assert done.status == 200, await done.text()


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


async def test_revoked_tokens_forget_the_installation(
    slack_sandbox: SlackSandbox, oauth_bot: tuple[SlackBot, str, Watched]
) -> None:
    _, root, inbound = oauth_bot
    for team in ("T0ONE", "T0TWO"):
        slack_sandbox.add_team(team)
        slack_sandbox.add_user(team, USER)
        await install(slack_sandbox, root, team)
    revoked = {
        "team_id": "T0ONE",
        "api_app_id": "A0SANDBOX",
        "type": "event_callback",
        "event_id": "EvREVOKED",
        "event_time": 1,
        "event": {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"], "oauth": []}},
    }
    assert (await slack_sandbox.post(json.dumps(revoked)))[0] == 200
    await slack_sandbox.user_sends("T0TWO", USER, "still here")  # handled after the revocation's listener
    await inbound.next()
    assert [r.workspace for r in await InstallationRow.all()] == [":T0TWO"]


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
    await store.async_delete_bot(enterprise_id=None, team_id="T0ONE")
    now[0] = 200
    with pytest.raises(LookupError, match="not installed"):
        await workspaces.client("T0ONE")

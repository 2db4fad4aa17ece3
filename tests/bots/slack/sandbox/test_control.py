"""Playing the standalone Slack sandbox's users over HTTP (``chatcast sandbox slack``), against the real slack-bolt
app and the engine with a database: workspaces and users made, a DM, the slash command, App Home and button presses
reaching the app signed as Slack signs them, and what the app told each user read back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bots.slack.app import SlackBot, SlackConfig, build_slack
from bots.slack.channel import address
from bots.slack.mrkdwn import plain
from bots.slack.sandbox.server import SlackSandbox
from campaigns.ports import Button, OutboundMessage
from storage.models import ChatMessage, Event
from tests.fakes.sandboxes import SIGNING
from tests.fakes.slack_app import TEAM, USER, Watched, customer, serve, subscribed

pytestmark = pytest.mark.usefixtures("database")
ME = f"/sandbox/teams/{TEAM}/users/{USER}"


class Control:
    """The sandbox's ``/sandbox`` routes, as a person's script calls them."""

    def __init__(self, session: aiohttp.ClientSession, origin: str) -> None:
        self.session, self.origin = session, origin

    async def get(self, path: str) -> Any:
        async with self.session.get(self.origin + path) as answer:
            assert answer.status == 200, await answer.text()
            return await answer.json()

    async def post(self, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
        async with self.session.post(self.origin + path, json=body or {}) as answer:
            assert answer.status == status, await answer.text()
            return await answer.json() if status == 200 else await answer.text()


@pytest.fixture
async def control(slack_sandbox: SlackSandbox) -> AsyncIterator[Control]:
    async with aiohttp.ClientSession() as session:
        yield Control(session, slack_sandbox.origin)


async def test_users_are_made_and_played_over_http(slack_sandbox: SlackSandbox, control: Control) -> None:
    installed = await control.post("/sandbox/teams", {"id": TEAM, "name": "Shop Customers"})
    await control.post(f"/sandbox/teams/{TEAM}/users", {"id": USER, "name": "mia", "real_name": "Mia"})
    assert "already" in await control.post(f"/sandbox/teams/{TEAM}/users", {"id": USER}, status=409)
    assert "no team" in await control.post("/sandbox/teams/T0NONE/users", {"id": USER}, status=404)
    assert "POST /sandbox/app" in await control.post(ME + "/messages", {"text": "hi"}, status=409)  # no app yet

    inbound = Watched()
    config = SlackConfig(signing_secret=SIGNING, bot_token=installed["bot_token"], api_url=slack_sandbox.base_url)
    bot = build_slack(config, inbound)
    runner = await serve(bot, slack_sandbox)
    try:
        url = slack_sandbox.app_url
        assert (await control.post("/sandbox/app", {"url": url}))["app_url"] == url  # as in Slack's app settings
        await _lives(slack_sandbox, control, bot, inbound)
    finally:
        await runner.cleanup()


async def _lives(sandbox: SlackSandbox, control: Control, bot: SlackBot, inbound: Watched) -> None:
    """Mia subscribes, opens App Home, gets a campaign, presses its button, writes, and unsubscribes on App Home."""
    answer = await control.post(ME + "/commands", {"command": "/shop", "text": "subscribe"})
    assert answer["status"] == 200 and (await inbound.next()).kind == "start"
    await sandbox.wait_for(lambda: bool(sandbox.ephemeral))
    me = await control.get(ME)
    assert "news and offers" in me["ephemeral"][-1]["text"] and subscribed(await customer())

    await control.post(ME + "/home")
    assert (await inbound.next()).kind == "home"
    await sandbox.wait_for(lambda: (TEAM, USER) in sandbox.views)
    assert "You're subscribed" in str((await control.get(ME))["home"])

    text = f"*20% off* the {plain('*Pro* _x_ ~y~ `z`')} this week"
    buttons = (Button("Tell me more", action="more"), Button("Shop", url="https://shop.example/pro"))
    await bot.channel.send(OutboundMessage(address(TEAM, USER), text, buttons, campaign_id=None, step="main"))
    [sent] = (await control.get(ME))["messages"][-1:]
    assert sent["from_bot"] and sent["formatting"] == [{"style": "bold", "text": "20% off"}]
    assert [b["text"] for b in sent["buttons"]] == ["Tell me more", "Shop"]
    assert sent["buttons"][1]["url"] == "https://shop.example/pro"
    assert "no such button" in await control.post(ME + "/presses", {"ts": sent["ts"], "text": "Nope"}, status=400)
    answer = await control.post(ME + "/presses", {"ts": sent["ts"], "text": "Tell me more"})
    assert answer["status"] == 200
    click = await inbound.next()
    assert (click.kind, click.payload["action"], click.payload["step"]) == ("click", "more", "main")

    await control.post(ME + "/messages", {"text": "Where is my order?"})
    assert (await inbound.next()).kind == "text"
    said = (await control.get(ME))["messages"][-1]
    assert (said["from_bot"], said["text"]) == (False, "Where is my order?")
    assert [m.text for m in await ChatMessage.all()] == ["Where is my order?"]

    await control.post(ME + "/presses", {"home": True, "text": "Unsubscribe"})
    assert (await inbound.next()).kind == "stop"
    assert not subscribed(await customer()) and await Event.filter(type="opted_out").count() == 1

    summary = await control.get("/sandbox")
    assert summary["teams"][TEAM]["users"] == [USER] and summary["dms"][f"{TEAM}/{USER}"] >= 3
    assert summary["violations"] == [] and summary["app_url"] == sandbox.app_url
    assert "no user" in await control.post(f"/sandbox/teams/{TEAM}/users/U0NOBODY/messages", {"text": "x"}, status=404)
    await control.post(ME + "/deactivate")
    assert sandbox.workspace.users[(TEAM, USER)].deleted

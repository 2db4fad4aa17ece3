"""The Slack sandbox against the real slack_sdk clients: Web API calls, Block Kit checks, failures, and users."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from typer.testing import CliRunner

from bots.slack.sandbox.server import SlackMessage, SlackSandbox
from chatcast.cli import app as cli_app
from tests.fakes.clock import Clock
from tests.fakes.environment import reference_file

TEAM = "T0SANDBOX"
ANN = "U0ANN0001"
BUTTONS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Spring sale*"}},
    {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Buy"}, "action_id": "buy", "value": "sku-7"},
            {"type": "button", "text": {"type": "plain_text", "text": "Shop"}, "url": "https://shop.example/spring"},
        ],
    },
]


def sample(*parts: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(reference_file("slack", "samples", *parts).read_text())
    return data


def assert_shaped(answer: Any, shape: Any, where: str = "") -> None:
    """Every key of the answer is one the sample has, all the way down where the sample has objects."""
    if isinstance(answer, dict) and isinstance(shape, dict):
        assert set(answer) <= set(shape), f"{where}: {sorted(set(answer) - set(shape))} not in the sample"
        for key, value in answer.items():
            if isinstance(shape[key], dict) and shape[key]:
                assert_shaped(value, shape[key], f"{where}.{key}")


@pytest.fixture
def token(slack_sandbox: SlackSandbox) -> str:
    token = slack_sandbox.add_team(TEAM, "Sandbox Shop")
    slack_sandbox.add_user(TEAM, ANN, name="ann", real_name="Ann Smith", email="ann@example.com")
    return token


def client_for(sandbox: SlackSandbox, token: str | None = None, timeout: int = 30) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=sandbox.base_url, retry_handlers=[], timeout=timeout)


@pytest.fixture
def client(slack_sandbox: SlackSandbox, token: str) -> AsyncWebClient:
    return client_for(slack_sandbox, token)


async def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def test_answers_have_the_shapes_of_slacks_samples(
    slack_sandbox: SlackSandbox, client: AsyncWebClient, token: str
) -> None:
    auth = await client.auth_test()
    assert auth["team_id"] == TEAM and auth["user_id"].startswith("U") and auth["bot_id"].startswith("B")
    opened = await client.conversations_open(users=ANN, return_im=True)
    posted = await client.chat_postMessage(channel=opened["channel"]["id"], text="Hi", blocks=BUTTONS)
    ephemeral = await client.chat_postEphemeral(channel=opened["channel"]["id"], user=ANN, text="psst")
    info = await client.users_info(user=ANN, include_locale=True)
    found = await client.users_lookupByEmail(email="ANN@example.com")
    for name, answer in [
        ("auth.test", auth),
        ("conversations.open", opened),
        ("chat.postMessage", posted),
        ("chat.postEphemeral", ephemeral),
        ("users.info", info),
        ("users.lookupByEmail", found),
    ]:
        assert answer["ok"] is True
        assert_shaped(answer.data, sample("api", f"{name}.json"), name)
    assert posted["message"]["bot_id"] == auth["bot_id"] and posted["message"]["blocks"][0]["block_id"]
    assert float(ephemeral["message_ts"]) > float(posted["ts"])
    assert (info["user"]["profile"]["email"], info["user"]["locale"], found["user"]["id"]) == (
        "ann@example.com",
        "en-US",
        ANN,
    )
    assert slack_sandbox.violations == []


async def test_dms_channels_and_transcripts(slack_sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    first = await client.conversations_open(users=ANN)
    again = await client.conversations_open(users=[ANN])
    dm = first["channel"]["id"]
    assert dm.startswith("D") and again["channel"]["id"] == dm and again["already_open"] is True
    assert slack_sandbox.dm_channel(TEAM, ANN) == dm
    slack_sandbox.add_channel(TEAM, "C0GENERAL", "general")
    one = await client.chat_postMessage(channel=dm, text="one", blocks=BUTTONS)
    two = await client.chat_postMessage(channel=ANN, text="two")  # a user id means the DM
    await client.chat_postMessage(channel="C0GENERAL", text="hello all")
    await client.chat_postMessage(channel="#general", text="again")
    assert two["channel"] == dm and float(two["ts"]) > float(one["ts"])
    edited = await client.chat_update(channel=dm, ts=one["ts"], text="one, edited")
    assert edited["text"] == "one, edited"
    first_message, second_message = slack_sandbox.dm(TEAM, ANN)
    assert (first_message.text, first_message.blocks, first_message.edited) == ("one, edited", [], True)
    assert (second_message.channel, second_message.team_id, second_message.user_id) == (dm, TEAM, ANN)
    assert [m.text for m in slack_sandbox.messages("C0GENERAL")] == ["hello all", "again"]
    assert slack_sandbox.ephemeral == [] and slack_sandbox.violations == []
    message = SlackMessage(dm, "1.000001", "x", BUTTONS, TEAM, ANN)
    assert [b.get("action_id") for b in message.buttons()] == ["buy", None]
    with pytest.raises(AttributeError):
        message.text = "y"  # type: ignore[misc]
    assert (await error_of(client.chat_update(channel=dm, ts="1.000000", text="x"))).response["error"] == (
        "message_not_found"
    )


def _blocks(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"channel": ANN, "text": "fallback", "blocks": list(blocks)}


def _button(**fields: Any) -> dict[str, Any]:
    button = {"type": "button", "text": {"type": "plain_text", "text": "Buy"}, "action_id": "buy"} | fields
    return {"type": "actions", "elements": [button]}


SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}


@pytest.mark.parametrize(
    ("method", "body", "error", "violation"),
    [
        ("chat.sendTelegram", {}, "unknown_method", "chat.sendTelegram: unknown method"),
        ("chat.postMessage", {"text": "hi"}, "invalid_arguments", "missing required parameter 'channel'"),
        ("chat.postMessage", {"channel": ANN, "text": "hi", "colour": "red"}, "invalid_arguments", "'colour'"),
        ("views.publish", {"user_id": ANN}, "invalid_arguments", "missing required parameter 'view'"),
        ("chat.postMessage", {"channel": ANN}, "no_text", "text, blocks or attachments is required"),
        ("chat.postMessage", {"channel": ANN, "text": "x" * 40_001}, "msg_too_long", "the limit is 40000"),
        (
            "chat.postMessage",
            _blocks(*[SECTION] * 51),
            "invalid_blocks",
            "no more than 50 items allowed [json-pointer:/blocks]",
        ),
        (
            "chat.postMessage",
            _blocks({"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}),
            "invalid_blocks",
            "less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            "chat.postMessage",
            _blocks(_button(text={"type": "plain_text", "text": "x" * 76})),
            "invalid_blocks",
            "less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            "chat.postMessage",
            _blocks(_button(text={"type": "mrkdwn", "text": "*Buy*"})),
            "invalid_blocks",
            "must be one of plain_text [json-pointer:/blocks/0/elements/0/text/type]",
        ),
        ("chat.postMessage", _blocks(_button(action_id="a" * 256)), "invalid_blocks", "less than 256 characters"),
        ("chat.postMessage", _blocks(_button(value="v" * 2001)), "invalid_blocks", "less than 2001 characters"),
        ("chat.postMessage", _blocks(_button(url="https://" + "u" * 2993)), "invalid_blocks", "less than 3001"),
        (
            "chat.postMessage",
            _blocks({"type": "actions", "elements": _button()["elements"] * 26}),
            "invalid_blocks",
            "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            "chat.postMessage",
            _blocks({"type": "actions", "elements": _button()["elements"] * 2}),  # two buttons, one action_id
            "invalid_blocks",
            "duplicate action_id 'buy' [json-pointer:/blocks/0/elements/1/action_id]",
        ),
        (
            "chat.postMessage",
            _blocks(SECTION | {"block_id": "b1"}, SECTION | {"block_id": "b1"}),
            "invalid_blocks",
            "duplicate block_id 'b1' [json-pointer:/blocks/1/block_id]",
        ),
        (
            "chat.postMessage",
            _blocks({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}),
            "invalid_blocks",
            "less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            "chat.postMessage",
            _blocks({"type": "section", "text": {"type": "markdown", "text": "hi"}}),
            "invalid_blocks",
            "must be one of plain_text, mrkdwn [json-pointer:/blocks/0/text/type]",
        ),
        (
            "chat.postMessage",
            _blocks({"type": "image", "image_url": "https://shop.example/p.png"}),
            "invalid_blocks",
            "missing required field [json-pointer:/blocks/0/alt_text]",
        ),
        (
            "chat.postMessage",
            _blocks({"type": "image", "image_url": "https://shop.example/p.png", "alt_text": ""}),
            "invalid_blocks",
            "must be more than 0 characters [json-pointer:/blocks/0/alt_text]",
        ),
        (
            "chat.postMessage",
            _blocks(
                {"type": "image", "image_url": "https://shop.example/p.png", "alt_text": "p"}
                | {"slack_file": {"url": "https://files.slack.com/files-pri/T1-F1/p.png"}}
            ),
            "invalid_blocks",
            "either image_url or slack_file, not both [json-pointer:/blocks/0/image_url]",
        ),
        (
            "chat.postMessage",
            _blocks({"type": "image", "image_url": "https://shop.example/" + "p" * 3000, "alt_text": "p"}),
            "invalid_blocks",
            "must be less than 3001 characters [json-pointer:/blocks/0/image_url]",
        ),
        ("chat.postMessage", _blocks({"type": "carousel"}), "invalid_blocks", "unknown block type 'carousel'"),
        ("chat.postMessage", {"channel": ANN, "blocks": "[{"}, "invalid_blocks_format", "not valid JSON"),
    ],
)
async def test_bad_calls_are_violations_and_errors(
    slack_sandbox: SlackSandbox, client: AsyncWebClient, method: str, body: dict[str, Any], error: str, violation: str
) -> None:
    failed = await error_of(client.api_call(method, json=body))
    assert failed.response.status_code == 200 and failed.response["error"] == error
    assert any(violation in v for v in slack_sandbox.violations), slack_sandbox.violations
    assert slack_sandbox.transcripts == {} and slack_sandbox.errors[-1] == (method, 200, error)
    if error.startswith("invalid_"):
        assert failed.response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    slack_sandbox.violations.clear()  # broken on purpose and looked at: the fixture checks for others


async def test_form_bodies_and_blocks_as_json_strings(slack_sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    answer = await client.api_call(
        "chat.postMessage", data={"channel": ANN, "text": "hi", "blocks": json.dumps(BUTTONS)}
    )
    assert answer["message"]["blocks"][1]["elements"][0]["action_id"] == "buy"
    assert slack_sandbox.dm(TEAM, ANN)[0].blocks == BUTTONS
    view = {"type": "home", "blocks": [SECTION] * 100}
    assert (await client.views_publish(user_id=ANN, view=view))["ok"]
    failed = await error_of(client.views_publish(user_id=ANN, view={"type": "home", "blocks": [SECTION] * 101}))
    assert failed.response["error"] == "invalid_blocks" and "json-pointer:/view/blocks" in slack_sandbox.violations[-1]
    failed = await error_of(client.views_publish(user_id=ANN, view={"type": "modal", "blocks": []}))
    assert failed.response["error"] == "invalid_arguments"
    slack_sandbox.violations.clear()  # broken on purpose and looked at: the fixture checks for others


async def test_not_strict_records_but_answers(slack_spec: Path) -> None:
    async with SlackSandbox(spec=slack_spec, strict=False) as sandbox:
        client = client_for(sandbox, sandbox.add_team())
        sandbox.add_user(TEAM, ANN)
        await client.chat_postMessage(channel=ANN, text="hi", colour="red")
        assert sandbox.violations == ["chat.postMessage: unknown parameter 'colour'"]
        assert [m.text for m in sandbox.dm(TEAM, ANN)] == ["hi"]


async def test_other_spec_methods_answer_ok_and_the_extras_are_known(
    slack_sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    assert (await client.reactions_add(channel="C1", name="tada", timestamp="1.2")).data == {"ok": True}
    metadata = {"event_type": "campaign_sent", "event_payload": {"campaign": 7}}
    assert (await client.chat_postMessage(channel=ANN, text="hi", metadata=metadata))["ok"]
    assert slack_sandbox.violations == []
    async with SlackSandbox() as fallback:
        client = client_for(fallback, fallback.add_team())
        failed = await error_of(client.reactions_add(channel="C1", name="tada", timestamp="1.2"))
        assert failed.response["error"] == "unknown_method"
        failed = await error_of(client.api_call("users.info", params={}))
        assert failed.response["error"] == "invalid_arguments"
        assert fallback.violations == ["reactions.add: unknown method", "users.info: missing required parameter 'user'"]


async def test_users_who_cannot_be_reached(slack_sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    slack_sandbox.add_user(TEAM, "U0BOB0001")
    slack_sandbox.add_user(TEAM, "U0HELPBOT", is_bot=True)
    await client.conversations_open(users="U0BOB0001")
    slack_sandbox.deactivate(TEAM, "U0BOB0001")
    cases = [
        (client.conversations_open(users="U0NOBODY1"), "user_not_found"),
        (client.conversations_open(users="U0BOB0001"), "user_disabled"),
        (client.conversations_open(users="U0HELPBOT"), "cannot_dm_bot"),
        (client.chat_postMessage(channel="U0HELPBOT", text="hi"), "cannot_dm_bot"),
        (client.chat_postMessage(channel="C0NOWHERE", text="hi"), "channel_not_found"),
        (client.chat_postMessage(channel="U0NOBODY1", text="hi"), "channel_not_found"),
        (client.users_info(user="U0NOBODY1"), "user_not_found"),
        (client.users_lookupByEmail(email="nobody@example.com"), "users_not_found"),
        (client.chat_postEphemeral(channel=ANN, user="U0BOB0001", text="hi"), "user_not_in_channel"),
    ]
    for call, error in cases:
        assert (await error_of(call)).response["error"] == error
    # A deactivated user's DM still takes posts, as on Slack; users.info tells them apart.
    assert (await client.chat_postMessage(channel="U0BOB0001", text="still there"))["ok"]
    assert (await client.users_info(user="U0BOB0001"))["user"]["deleted"] is True
    assert slack_sandbox.violations == []


async def test_tokens_wrong_revoked_missing_and_of_the_wrong_type(
    slack_sandbox: SlackSandbox, client: AsyncWebClient, token: str
) -> None:
    assert (await error_of(client_for(slack_sandbox, "xoxb-1-2-nope").auth_test())).response["error"] == "invalid_auth"
    assert (await error_of(client_for(slack_sandbox).auth_test())).response["error"] == "not_authed"
    app_client = client_for(slack_sandbox, slack_sandbox.app_token)
    assert (await error_of(app_client.auth_test())).response["error"] == "not_allowed_token_type"
    failed = await error_of(client.apps_connections_open(app_token=token))
    assert failed.response["error"] == "not_allowed_token_type"
    url = (await client.apps_connections_open(app_token=slack_sandbox.app_token))["url"]
    assert url.startswith(slack_sandbox.base_url.replace("http", "ws").removesuffix("/api/") + "/socket-mode?ticket=")
    other = client_for(slack_sandbox, slack_sandbox.add_team("T0OTHER01", "Other Shop"))
    slack_sandbox.revoke(TEAM)
    assert (await error_of(client.chat_postMessage(channel=ANN, text="hi"))).response["error"] == "account_inactive"
    assert (await error_of(client.auth_test())).response["error"] == "account_inactive"
    assert (await other.auth_test())["team_id"] == "T0OTHER01"


# slack_sdk 3.48 builds aiohttp's BasicAuth for the client credentials, deprecated since aiohttp 3.14.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_v2_access_installs_and_reinstalls(slack_sandbox: SlackSandbox, token: str) -> None:
    slack_sandbox.client_id, slack_sandbox.client_secret = "111.222", "oauth-secret"
    anonymous = client_for(slack_sandbox)
    code = slack_sandbox.oauth_code(TEAM, "U0ADMIN01")
    secrets = {"client_id": "111.222", "client_secret": "oauth-secret"}
    failed = await error_of(anonymous.oauth_v2_access(client_id="111.222", client_secret="nope", code=code))
    assert failed.response["error"] == "bad_client_secret"
    slack_sandbox.revoke(TEAM)
    installed = await anonymous.oauth_v2_access(**secrets, code=code)
    assert {key: installed[key] for key in ("token_type", "enterprise", "is_enterprise_install")} == {
        "token_type": "bot",
        "enterprise": None,
        "is_enterprise_install": False,
    }
    assert installed["team"] == {"id": TEAM, "name": "Sandbox Shop"} and installed["authed_user"] == {"id": "U0ADMIN01"}
    assert installed["access_token"].startswith("xoxb-") and installed["access_token"] != token
    assert installed["app_id"] == "A0SANDBOX" and "chat:write" in installed["scope"]
    fresh = client_for(slack_sandbox, installed["access_token"])
    assert (await fresh.auth_test())["user_id"] == installed["bot_user_id"]
    assert (await error_of(client_for(slack_sandbox, token).auth_test())).response["error"] == "account_inactive"
    assert (await error_of(anonymous.oauth_v2_access(**secrets, code=code))).response["error"] == "invalid_code"
    new_team = await anonymous.oauth_v2_access(**secrets, code=slack_sandbox.oauth_code("T0NEWSHOP"))
    assert new_team["team"]["id"] == "T0NEWSHOP"
    slack_sandbox.client_id = slack_sandbox.client_secret = None  # the default: any client is accepted
    any_client = await anonymous.oauth_v2_access(
        client_id="9.9", client_secret="s", code=slack_sandbox.oauth_code(TEAM)
    )
    assert any_client["team"]["id"] == TEAM
    assert slack_sandbox.violations == []


async def test_fail_next_ratelimits_server_errors_and_chosen_errors(
    slack_sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    slack_sandbox.fail_next("chat.postMessage", status=429, retry_after=7, times=2)
    assert (await client.auth_test())["ok"]
    for _ in range(2):
        failed = await error_of(client.chat_postMessage(channel=ANN, text="hi"))
        assert failed.response.status_code == 429 and failed.response.headers["Retry-After"] == "7"
        assert failed.response["error"] == "ratelimited"
    slack_sandbox.fail_next(None, status=503)
    assert (await error_of(client.auth_test())).response.status_code == 503
    slack_sandbox.fail_next("users.info", error="fatal_error")
    assert (await error_of(client.users_info(user=ANN))).response["error"] == "fatal_error"
    with pytest.raises(ValueError, match="needs an error"):
        slack_sandbox.fail_next("users.info")
    assert (await client.chat_postMessage(channel=ANN, text="hi"))["ok"]
    assert [status for _, status, _ in slack_sandbox.errors] == [429, 429, 503, 200]


async def test_random_server_errors_spare_the_plumbing(slack_spec: Path) -> None:
    async with SlackSandbox(spec=slack_spec, fault_rate=1.0, seed=3) as sandbox:
        client = client_for(sandbox, sandbox.add_team())
        assert (await client.auth_test())["ok"]
        failed = await error_of(client.chat_postMessage(channel="C1", text="hi"))
        assert failed.response.status_code in (500, 503)
        assert sandbox.transcripts == {}


async def test_a_timeout_is_a_slow_server_that_still_delivers(slack_spec: Path) -> None:
    sandbox = SlackSandbox(spec=slack_spec, fault_rate=1.0, fault="timeout", timeout_delay=30)
    await sandbox.start()
    client = client_for(sandbox, sandbox.add_team(), timeout=1)
    sandbox.add_user(TEAM, ANN)
    try:
        with pytest.raises((TimeoutError, aiohttp.ServerTimeoutError)):
            await client.chat_postMessage(channel=ANN, text="late")
    finally:
        await sandbox.stop()  # ends the simulated wait; the call is carried out
    assert [m.text for m in sandbox.dm(TEAM, ANN)] == ["late"]


async def test_a_disconnect_drops_the_call(slack_spec: Path) -> None:
    async with SlackSandbox(spec=slack_spec, fault_rate=1.0, fault="disconnect") as sandbox:
        client = client_for(sandbox, sandbox.add_team())
        sandbox.add_user(TEAM, ANN)
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.chat_postMessage(channel=ANN, text="lost")
        assert sandbox.transcripts == {}


async def test_the_rate_limit_is_about_one_message_a_second_per_channel(slack_spec: Path) -> None:
    clock = Clock(1000.0)
    async with SlackSandbox(spec=slack_spec, rate_limits=True, clock=clock) as sandbox:
        client = client_for(sandbox, sandbox.add_team())
        sandbox.add_user(TEAM, ANN)
        sandbox.add_user(TEAM, "U0BOB0001")
        await client.chat_postMessage(channel=ANN, text="one")
        failed = await error_of(client.chat_postMessage(channel=ANN, text="two"))
        assert (failed.response.status_code, failed.response.headers["Retry-After"]) == (429, "1")
        await client.chat_postMessage(channel="U0BOB0001", text="one")  # another channel
        assert (await client.users_info(user=ANN))["ok"]  # not a message
        clock.now += 0.5
        assert (await error_of(client.chat_postMessage(channel=ANN, text="two"))).response.status_code == 429
        clock.now += 0.5
        await client.chat_postMessage(channel=ANN, text="two")
        assert [m.text for m in sandbox.dm(TEAM, ANN)] == ["one", "two"]


async def test_wait_for_wakes_after_each_answered_call(slack_sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    waiting = asyncio.create_task(slack_sandbox.wait_for(lambda: len(slack_sandbox.dm(TEAM, ANN)) == 1))
    await asyncio.sleep(0)  # one turn: the waiter parks on its condition
    assert not waiting.done()
    await client.chat_postMessage(channel=ANN, text="hi")
    await asyncio.wait_for(waiting, 5)
    with pytest.raises(TimeoutError):
        await slack_sandbox.wait_for(lambda: False, timeout=0.01)


class AppUnderTest:
    """A tiny Slack app: checks each request's signature and answers what the test chooses."""

    def __init__(self, secret: str) -> None:
        self.verifier = SignatureVerifier(secret)
        self.received: list[tuple[str, bytes]] = []
        self.answer: Callable[[bytes], web.Response] = lambda body: web.Response()
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self.verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401, text="invalid signature")
        self.received.append((request.content_type, body))
        return self.answer(body)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/slack/events", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/slack/events"


@pytest.fixture
async def slack_app(slack_sandbox: SlackSandbox) -> AsyncIterator[AppUnderTest]:
    app = AppUnderTest(slack_sandbox.signing_secret)
    slack_sandbox.app_url = await app.start()
    yield app
    assert app.runner is not None
    await app.runner.cleanup()


async def test_an_uninstall_revokes_the_tokens_and_tells_the_app(
    slack_sandbox: SlackSandbox, client: AsyncWebClient, slack_app: AppUnderTest
) -> None:
    assert await slack_sandbox.uninstall(TEAM) == [200, 200]
    events = [json.loads(body) for _, body in slack_app.received]
    assert [e["event"]["type"] for e in events] == ["tokens_revoked", "app_uninstalled"]
    assert all(e["type"] == "event_callback" and e["team_id"] == TEAM for e in events)
    assert events[0]["event"]["tokens"] == {"oauth": [], "bot": [slack_sandbox.workspace.team(TEAM).bot_user_id]}
    assert len({e["event_id"] for e in events}) == 2
    assert (await error_of(client.chat_postMessage(channel=ANN, text="hi"))).response["error"] == "account_inactive"
    fresh = client_for(slack_sandbox, slack_sandbox.add_team(TEAM, "Sandbox Shop"))  # installed again: a new token
    assert (await fresh.chat_postMessage(channel=ANN, text="back"))["ok"]
    assert (await error_of(client.auth_test())).response["error"] == "account_inactive"  # the old one stays dead


async def test_a_revoked_token_answers_the_error_chosen(slack_sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    slack_sandbox.revoke(TEAM, "token_revoked")
    slack_sandbox.revoke(TEAM, "invalid_auth")  # revoked already: the first answer stays
    assert (await error_of(client.chat_postMessage(channel=ANN, text="hi"))).response["error"] == "token_revoked"
    assert await slack_sandbox.uninstall(TEAM) == []  # no app to tell (no app_url): the tokens are revoked all the same
    with pytest.raises(KeyError, match="no team"):
        slack_sandbox.revoke("T0NOSUCH")


async def test_users_reach_the_app_over_signed_http(
    slack_sandbox: SlackSandbox, client: AsyncWebClient, slack_app: AppUnderTest
) -> None:
    slack_app.answer = lambda body: web.json_response({"response_action": "clear"} if b"payload" in body else {})
    status, answer = await slack_sandbox.user_sends(TEAM, ANN, "where is my order?")
    assert (status, answer) == (200, {})
    kind, body = slack_app.received[-1]
    message = json.loads(body)
    assert kind == "application/json" and message["type"] == "event_callback"
    assert_shaped(message, sample("events", "MessagePayload.json"))
    event = message["event"]
    assert (event["type"], event["channel_type"], event["text"], event["user"]) == (
        "message",
        "im",
        "where is my order?",
        ANN,
    )
    assert event["channel"] == slack_sandbox.dm_channel(TEAM, ANN)
    assert [m.from_bot for m in slack_sandbox.transcripts[event["channel"]]] == [False]

    await client.views_publish(user_id=ANN, view={"type": "home", "blocks": BUTTONS})
    await slack_sandbox.open_app_home(TEAM, ANN)
    home = json.loads(slack_app.received[-1][1])
    assert home["event"]["type"] == "app_home_opened" and home["event"]["view"] == slack_sandbox.views[(TEAM, ANN)]
    del home["event"]["view"]["blocks"]  # real views carry their blocks; the sample's view leaves them out
    assert_shaped(home, sample("events", "AppHomeOpenedPayload.json"))

    await slack_sandbox.slash_command(TEAM, ANN, "/shop", "spring")
    kind, body = slack_app.received[-1]
    form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
    assert kind == "application/x-www-form-urlencoded" and set(form) <= set(
        sample("app-backend/SlashCommandPayload.json")
    )
    assert (form["command"], form["text"], form["user_id"], form["team_id"]) == ("/shop", "spring", ANN, TEAM)
    async with aiohttp.ClientSession() as http, http.post(form["response_url"], json={"text": "Here you go"}) as r:
        assert r.status == 200
    assert slack_sandbox.responses == [{"text": "Here you go"}]

    posted = await client.chat_postMessage(channel=ANN, text="Pick", blocks=BUTTONS)
    (message_,) = slack_sandbox.dm(TEAM, ANN)
    with pytest.raises(LookupError):
        await slack_sandbox.press(TEAM, ANN, message_, "buy", "sku-8")
    with pytest.raises(LookupError, match="another user's DM"):
        await slack_sandbox.press(TEAM, "U0BOB0001", message_, "buy")
    status, answer = await slack_sandbox.press(TEAM, ANN, message_, "buy")
    assert (status, answer) == (200, {"response_action": "clear"})
    payload = json.loads(parse_qs(slack_app.received[-1][1].decode())["payload"][0])
    assert_shaped(payload, sample("app-backend", "BlockActionPayload.json"))
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": posted["channel"],
        "is_ephemeral": False,
    }
    assert (payload["actions"][0]["action_id"], payload["actions"][0]["value"]) == ("buy", "sku-7")
    assert payload["message"]["ts"] == posted["ts"] and payload["user"]["id"] == ANN

    await slack_sandbox.press(TEAM, ANN, None, "buy", view=slack_sandbox.views[(TEAM, ANN)])
    payload = json.loads(parse_qs(slack_app.received[-1][1].decode())["payload"][0])
    assert payload["container"]["type"] == "view" and payload["view"]["id"] == slack_sandbox.views[(TEAM, ANN)]["id"]
    assert [kind for kind, _ in slack_sandbox.deliveries] == ["events_api"] * 2 + ["slash_commands"] + [
        "interactive"
    ] * 2
    assert slack_sandbox.violations == []


async def test_forged_and_stale_requests(slack_sandbox: SlackSandbox, token: str, slack_app: AppUnderTest) -> None:
    body = sample("events", "AppMentionPayload.json")
    assert (await slack_sandbox.post(body))[0] == 200
    assert await slack_sandbox.post(body, sign=False) == (401, "invalid signature")
    assert (await slack_sandbox.post(body, signature="v0=" + "0" * 64))[0] == 401
    assert (await slack_sandbox.post(json.dumps(body), timestamp=1_000_000))[0] == 401  # replayed, too old
    assert len(slack_app.received) == 1


async def test_users_reach_a_socket_mode_app(slack_sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    envelopes: list[SocketModeRequest] = []

    async def listener(socket: Any, request: SocketModeRequest) -> None:
        envelopes.append(request)
        answer = {"text": "Here you go"} if request.type == "slash_commands" else None
        await socket.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload=answer))

    socket_client = SocketModeClient(
        slack_sandbox.app_token, web_client=client_for(slack_sandbox), auto_reconnect_enabled=False
    )
    socket_client.socket_mode_request_listeners.append(listener)
    try:
        await socket_client.connect()
        async with asyncio.timeout(5):
            await slack_sandbox.socket.until_connected()
        assert await slack_sandbox.user_sends(TEAM, ANN, "hi") == (200, {})
        assert await slack_sandbox.slash_command(TEAM, ANN, "/shop") == (200, {"text": "Here you go"})
        await client.chat_postMessage(channel=ANN, text="Pick", blocks=BUTTONS)
        assert await slack_sandbox.press(TEAM, ANN, slack_sandbox.dm(TEAM, ANN)[0], "buy") == (200, {})
    finally:
        await socket_client.close()
    assert [(e.type, e.accepts_response_payload) for e in envelopes] == [
        ("events_api", False),
        ("slash_commands", True),
        ("interactive", True),
    ]
    assert envelopes[0].payload["event"]["text"] == "hi" and envelopes[2].payload["actions"][0]["value"] == "sku-7"
    assert [ack["envelope_id"] for ack in slack_sandbox.socket.acks] == [e.envelope_id for e in envelopes]


def test_the_cli_runs_a_slack_sandbox() -> None:
    result = CliRunner().invoke(cli_app, ["sandbox", "slack", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--port", "--spec", "--signing-secret", "--app-url", "--rate-limits", "--fault-rate", "--fault"):
        assert option in result.output

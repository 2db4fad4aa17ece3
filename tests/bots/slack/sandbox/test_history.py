"""The Slack sandbox's message metadata and conversations.history, through the real slack_sdk client: metadata kept
and validated, history newest first within its bounds, paged by cursor, metadata only when asked for; and the
faults that leave a send uncertain, queued for one method: a late call carried out, an answer lost after it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.sandbox.server import SlackSandbox
from tests.fakes.environment import reference_file

TEAM, ANN = "T0SANDBOX", "U0ANN0001"
METADATA = {"event_type": "chatcast_delivery", "event_payload": {"delivery": "7"}}


@pytest.fixture
def client(slack_sandbox: SlackSandbox) -> AsyncWebClient:
    token = slack_sandbox.add_team(TEAM, "Sandbox Shop")
    slack_sandbox.add_user(TEAM, ANN)
    return AsyncWebClient(token=token, base_url=slack_sandbox.base_url, retry_handlers=[])


async def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


def history_schema() -> dict[str, Any]:
    spec = json.loads(reference_file("slack", "slack_web_openapi_v2.json").read_text())
    schema: dict[str, Any] = spec["paths"]["/conversations.history"]["get"]["responses"]["200"]["schema"]
    return schema


async def test_a_message_keeps_its_metadata_and_history_shows_it_when_asked(
    slack_sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    dm = (await client.conversations_open(users=ANN))["channel"]["id"]
    posted = await client.chat_postMessage(channel=dm, text="Spring sale", metadata=METADATA)
    await client.chat_postMessage(channel=dm, text="no metadata")
    assert posted["message"]["metadata"] == METADATA
    assert [m.metadata for m in slack_sandbox.dm(TEAM, ANN)] == [METADATA, None]

    shown = await client.conversations_history(channel=dm, include_all_metadata=True)
    assert [m["text"] for m in shown["messages"]] == ["no metadata", "Spring sale"]  # newest first
    assert shown["messages"][1]["metadata"] == METADATA and "metadata" not in shown["messages"][0]
    assert shown["messages"][1]["ts"] == posted["ts"] and shown["messages"][1]["bot_id"]
    schema = history_schema()
    assert set(schema["required"]) <= set(shown.data)
    assert set(shown.data) <= set(schema["properties"]) | {"response_metadata"}
    message_keys = set(
        json.loads(reference_file("slack", "samples", "api", "chat.postMessage.json").read_text())["message"]
    )
    assert all(set(m) <= message_keys for m in shown["messages"])
    plain = await client.conversations_history(channel=dm)
    assert all("metadata" not in m for m in plain["messages"])  # metadata only with include_all_metadata
    assert slack_sandbox.violations == []


async def test_history_is_bounded_and_paged_by_cursor(slack_sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    dm = (await client.conversations_open(users=ANN))["channel"]["id"]
    stamps = [(await client.chat_postMessage(channel=dm, text=f"m{i}"))["ts"] for i in range(7)]
    texts: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await client.conversations_history(channel=dm, oldest=stamps[1], limit=2, cursor=cursor)
        pages += 1
        texts += [m["text"] for m in page["messages"]]
        if not page["has_more"]:
            assert "response_metadata" not in page
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert texts == ["m6", "m5", "m4", "m3", "m2"] and pages == 3  # oldest itself is out unless inclusive
    inclusive = await client.conversations_history(channel=dm, oldest=stamps[1], latest=stamps[3], inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]
    assert slack_sandbox.violations == []


async def test_history_refuses_what_slack_refuses(slack_sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    dm = (await client.conversations_open(users=ANN))["channel"]["id"]
    cases = [
        (client.conversations_history(channel="D0NOTOURS"), "channel_not_found"),
        (client.conversations_history(channel=ANN), "channel_not_found"),  # a user is no conversation
        (client.conversations_history(channel=dm, oldest="yesterday"), "invalid_ts_oldest"),
        (client.conversations_history(channel=dm, latest="soon"), "invalid_ts_latest"),
        (client.conversations_history(channel=dm, cursor="not-a-cursor"), "invalid_cursor"),
        (client.chat_postMessage(channel=dm, text="x", metadata={"event_type": "a b", "event_payload": {}}),
         "invalid_metadata_format"),
        (client.chat_postMessage(channel=dm, text="x", metadata={"event_type": "sent"}), "invalid_metadata_format"),
        (client.api_call("conversations.history", params={"channel": dm, "colour": "red"}), "invalid_arguments"),
    ]  # fmt: skip
    for call, error in cases:
        assert (await error_of(call)).response["error"] == error
    assert slack_sandbox.violations == [
        "chat.postMessage: metadata.event_type must be a word like task_created",
        "chat.postMessage: metadata.event_payload must be an object",
        "conversations.history: unknown parameter 'colour'",
    ]
    slack_sandbox.violations.clear()
    assert slack_sandbox.dm(TEAM, ANN) == []


async def test_queued_faults_leave_a_send_uncertain(slack_spec: Path) -> None:
    async with SlackSandbox(spec=slack_spec, timeout_delay=30) as sandbox:
        token = sandbox.add_team(TEAM, "Sandbox Shop")
        sandbox.add_user(TEAM, ANN)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
            client = AsyncWebClient(token=token, base_url=sandbox.base_url, retry_handlers=[], session=session)
            await client.conversations_open(users=ANN)
            sandbox.fault_next("chat.postMessage", "lost")
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await client.chat_postMessage(channel=ANN, text="carried out, answer lost")
            sandbox.fault_next("chat.postMessage", "disconnect")
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await client.chat_postMessage(channel=ANN, text="never carried out")
            sandbox.fault_next("chat.postMessage", "timeout")
            with pytest.raises((TimeoutError, aiohttp.ServerTimeoutError)):
                await client.chat_postMessage(channel=ANN, text="late")
            assert [m.text for m in sandbox.dm(TEAM, ANN)] == ["carried out, answer lost"]
            sandbox.finish_late_calls()  # the held call is carried out now, not 30 s later
            await sandbox.wait_for(lambda: len(sandbox.dm(TEAM, ANN)) == 2)
            assert [m.text for m in sandbox.dm(TEAM, ANN)] == ["carried out, answer lost", "late"]
            assert (await client.chat_postMessage(channel=ANN, text="fine"))["ok"]  # the faults were used up
        assert sandbox.violations == []

"""Replies as ``serve`` sends them on Slack: through the outbox and the dispatcher. The real slack-bolt app and
slack_sdk client against the Slack sandbox, on SQLite and PostgreSQL: an event is acknowledged whatever becomes of
its reply; a reply Slack refuses with 429 or 5xx is sent later, once; a redelivered event gets no second answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bots.slack.app import SlackBot, SlackConfig, build_slack
from bots.slack.sandbox.server import SlackSandbox
from campaigns.delivery.dispatcher import Dispatcher
from storage.models import Delivery, Event
from storage.redeliveries import StoredUpdates
from tests.fakes.clock import Clock
from tests.fakes.replies import Echo, WatchedReplies
from tests.fakes.sandboxes import SIGNING
from tests.fakes.slack_app import TEAM, USER, Watched, serve

pytestmark = pytest.mark.usefixtures("database")


@dataclass
class Serving:
    sandbox: SlackSandbox
    bot: SlackBot
    inbound: Watched
    replies: WatchedReplies
    dispatcher: Dispatcher
    clock: Clock[datetime]


@pytest.fixture
async def serving(slack_sandbox: SlackSandbox) -> AsyncIterator[Serving]:
    token = slack_sandbox.add_team(TEAM, name="Shop Customers")
    slack_sandbox.add_user(TEAM, USER, name="mia", real_name="Mia")
    clock = Clock(datetime.now(UTC))
    inbound = Watched()
    echo = Echo()
    inbound.inner.responder = echo
    replies = WatchedReplies(clock=clock)
    config = SlackConfig(signing_secret=SIGNING, bot_token=token, api_url=slack_sandbox.base_url, shop_name="Shop")
    bot = build_slack(config, inbound, updates=StoredUpdates(), replies=replies)
    dispatcher = Dispatcher({bot.channel.name: bot.channel}, worker="test", clock=clock, sleep=clock.sleep)
    replies.attach(dispatcher, {bot.channel.name: bot.channel})
    runner = await serve(bot, slack_sandbox)
    yield Serving(slack_sandbox, bot, inbound, replies, dispatcher, clock)
    await runner.cleanup()


def texts(sandbox: SlackSandbox) -> list[str]:
    return [m.text for m in sandbox.dm(TEAM, USER)]


@pytest.mark.parametrize(("status", "error"), [(429, None), (500, None), (200, "ratelimited")], ids=str)
async def test_a_refused_reply_is_sent_later_once(serving: Serving, status: int, error: str | None) -> None:
    sandbox = serving.sandbox
    sandbox.fail_next("chat.postMessage", status=status, error=error, retry_after=4 if status == 429 else None)
    ack, _ = await sandbox.user_sends(TEAM, USER, "subscribe")
    assert ack == 200
    await serving.replies.next()
    assert texts(sandbox) == []
    (row,) = await Delivery.all()
    assert row.status == "queued" and row.error
    kind, payload = sandbox.link.deliveries[-1]
    assert (await sandbox.link.deliver(kind, payload))[0] == 200  # Slack retries meanwhile: nothing happens
    await serving.dispatcher.drain()
    assert len(texts(sandbox)) == 1 and "news and offers" in texts(sandbox)[0]
    assert await Event.filter(type="opted_in").count() == 1


@pytest.mark.parametrize("times", [1, 5])
async def test_a_retried_question_is_answered_once(serving: Serving, times: int) -> None:
    sandbox = serving.sandbox
    await sandbox.user_sends(TEAM, USER, "where is my parcel?")
    await serving.replies.next()
    kind, payload = sandbox.link.deliveries[-1]
    for _ in range(times):
        assert (await sandbox.link.deliver(kind, payload))[0] == 200
    await serving.dispatcher.drain()
    assert texts(sandbox) == ["You said: where is my parcel?"]
    assert serving.replies.done.empty() and await Event.filter(type="replied").count() == 1

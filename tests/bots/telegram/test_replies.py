"""Replies as ``serve`` sends them: through the outbox and the dispatcher (the same pace and error rules as any
campaign message), never failing the webhook. The real aiogram webhook against the Bot API sandbox, on SQLite and
PostgreSQL: a reply that must wait, or that Telegram refuses with 429 or 5xx, is sent later and once; one that
meets a block opts the customer out; a redelivered update never brings a second answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from storage.models import Customer, Delivery, Event
from tests.fakes.replies import Serving, telegram_serving
from tests.fakes.sandboxes import CountingSandbox

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
async def serving(telegram_sandbox: CountingSandbox, telegram_bot: Bot) -> AsyncIterator[Serving]:
    async with telegram_serving(telegram_sandbox, telegram_bot) as serving:
        yield serving


def texts(sandbox: CountingSandbox, chat: int) -> list[str]:
    return [m.text or "" for m in sandbox.sent(chat)]


async def test_a_reply_the_chat_must_wait_for_is_queued_and_goes_out_once_it_may(serving: Serving) -> None:
    sandbox = serving.sandbox
    await sandbox.user_sends(601, "/start")
    await sandbox.user_sends(601, "hello")  # at once: Telegram allows a chat one message a second
    assert sandbox.webhook_responses == [200, 200]
    assert len(texts(sandbox, 601)) == 1 and "Welcome" in texts(sandbox, 601)[0]
    waiting = await Delivery.get(status="queued")
    assert waiting.text == "You said: hello" and waiting.next_attempt_at is not None
    await serving.dispatcher.drain()
    assert texts(sandbox, 601)[1:] == ["You said: hello"]
    assert [e for e in sandbox.errors if e[1] == 429] == []  # paced, never refused
    assert await Delivery.filter(status="sent").count() == 2


@pytest.mark.parametrize(
    ("status", "description", "recorded"),
    [(429, "Too Many Requests: retry after 7", "too many requests"), (502, "Bad Gateway", "Bad Gateway")],
    ids=["429", "5xx"],
)
async def test_a_refused_reply_still_answers_the_webhook_and_is_sent_later_once(
    serving: Serving, status: int, description: str, recorded: str
) -> None:
    sandbox = serving.sandbox
    sandbox.fail_next(status, description, retry_after=7 if status == 429 else None, method="sendMessage")
    start = await sandbox.user_sends(602, "/start")
    assert sandbox.webhook_responses == [200] and texts(sandbox, 602) == []
    (row,) = await Delivery.all()
    assert row.status == "queued" and recorded in (row.error or "")  # the platform's error, kept on the row
    assert (await Customer.get()).opted_in_at is not None  # the update's effects stand
    await sandbox.feed.publish(start)  # Telegram may redeliver meanwhile: no second welcome
    await serving.dispatcher.drain()
    assert len(texts(sandbox, 602)) == 1 and "Welcome" in texts(sandbox, 602)[0]
    if status == 429:
        assert any(s >= 7 for s in serving.clock.slept)  # retry_after honoured
    assert await Event.filter(type="opted_in").count() == 1


async def test_a_reply_meeting_a_block_opts_the_customer_out(serving: Serving) -> None:
    sandbox = serving.sandbox
    await sandbox.user_sends(603, "/start")
    sandbox.fail_next(403, "Forbidden: bot was blocked by the user", method="sendMessage")
    await sandbox.user_sends(603, "are you there?")
    await serving.dispatcher.drain()  # now or once the chat's pace allows, the answer meets the block
    assert sandbox.webhook_responses == [200, 200] and len(texts(sandbox, 603)) == 1
    customer = await Customer.get()
    assert customer.opted_out_at is not None and customer.consent_source == "telegram:blocked"
    (left,) = await Event.filter(type="opted_out")
    assert left.data["reason"] == "blocked"


@pytest.mark.parametrize("times", [1, 5])
async def test_a_redelivered_question_is_answered_once(serving: Serving, times: int) -> None:
    sandbox = serving.sandbox
    question = await sandbox.user_sends(604, "where is my parcel?")
    for _ in range(times):
        await sandbox.feed.publish(question)
    await serving.dispatcher.drain()
    assert texts(sandbox, 604) == ["You said: where is my parcel?"]
    assert serving.echo.asked == 1 and sandbox.webhook_responses == [200] * (times + 1)
    assert await Event.filter(type="replied").count() == 1

"""Reconciling unknown Slack deliveries, on SQLite and PostgreSQL, through slack_sdk against the Slack sandbox: every
message carries its delivery's id as metadata, so a send left uncertain (a timeout after Slack carried it out, a
connection dropped before it did) is looked up in the DM's history and becomes ``sent``, or, certainly not
delivered, is sent again or ``failed``; a history that cannot be read leaves it ``unknown`` for a later pass."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import reconcile as slack_reconcile
from bots.slack.channel import SlackChannel, build_client, shared_session
from bots.slack.reconcile import posted_at
from bots.slack.sandbox.server import SlackSandbox
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.jobs import reconcile_unknown
from campaigns.ports import Reconciler
from storage.models import Campaign, Delivery
from storage.outbox import RECONCILED_AGAIN, RECONCILED_NOT_SENT, RECONCILED_SENT
from tests.fakes.dispatch_worker import NO_LIMITS, add_campaign, add_customers, add_deliveries

TEAM, ANN, BOB = "T0SHOP", "U0ANN0001", "U0BOB0001"
LEASE = 600.0  # the claim timeout: a row not found counts as not delivered this long after its claim
NOTHING = {"sent": 0, "requeued": 0, "failed": 0, "unknown": 0}


@pytest.fixture
async def token(slack_sandbox: SlackSandbox) -> str:
    token = slack_sandbox.add_team(TEAM, "Sandbox Shop")
    for user in (ANN, BOB):
        slack_sandbox.add_user(TEAM, user)
    return token


@pytest.fixture
async def session() -> AsyncIterator[object]:
    async with shared_session(timeout=1) as session:  # an injected timeout trips it; the sandbox answers at once
        yield session


def slack_channel(sandbox: SlackSandbox, token: str, session: object, **options: int) -> SlackChannel:
    client = build_client(token, base_url=sandbox.base_url, session=session)  # type: ignore[arg-type]

    async def clients(team_id: str) -> AsyncWebClient:
        return client

    return SlackChannel(clients, **options)


@pytest.fixture
def channel(slack_sandbox: SlackSandbox, token: str, session: object) -> SlackChannel:
    return slack_channel(slack_sandbox, token, session)


async def drain(channel: SlackChannel) -> dict[str, int]:
    stats = await Dispatcher({"slack": channel}, worker="w1", rates=NO_LIMITS, rng=random.Random(7)).drain()
    return {"sent": stats.sent, "unknown": stats.unknown, "failed": stats.failed}


async def reconcile(channel: SlackChannel) -> dict[str, int]:
    return await reconcile_unknown({"slack": channel}, LEASE)


async def age(by: timedelta, *ids: int) -> None:
    """The unknown rows (those of ``ids``) were claimed ``by`` earlier (their lease has passed, or more)."""
    for row in await Delivery.filter(status="unknown", **({"id__in": ids} if ids else {})):
        await Delivery.filter(id=row.id).update(claimed_at=row.claimed_at - by)


def metadata(row: int) -> dict[str, object]:
    return {"event_type": "chatcast_delivery", "event_payload": {"delivery": str(row)}}


async def one_row(user: str = ANN, step: str = "s1", campaign: int | None = None) -> int:
    (customer,) = await add_customers("slack", [f"{TEAM}:{user}"], first_id=1 if user == ANN else 2)
    (row,) = await add_deliveries(campaign or await add_campaign(), "slack", [(customer, f"{TEAM}:{user}")], step=step)
    return row


async def test_the_slack_channel_reconciles(channel: SlackChannel) -> None:
    assert isinstance(channel, Reconciler)


async def test_a_send_that_timed_out_after_slack_posted_it_is_found_and_sent(
    database: str, slack_sandbox: SlackSandbox, channel: SlackChannel
) -> None:
    row = await one_row()
    slack_sandbox.fault_next("chat.postMessage", "timeout")  # Slack carries the call out, after our client gave up
    assert await drain(channel) == {"sent": 0, "unknown": 1, "failed": 0}
    assert (await Delivery.get(id=row)).status == "unknown"
    slack_sandbox.finish_late_calls()
    await slack_sandbox.wait_for(lambda: len(slack_sandbox.dm(TEAM, ANN)) == 1)
    (message,) = slack_sandbox.dm(TEAM, ANN)
    assert message.metadata == metadata(row)

    assert await reconcile(channel) == NOTHING | {"sent": 1}  # found: final at once, no need to wait out the lease
    found = await Delivery.get(id=row)
    assert (found.status, found.provider_message_id, found.error) == ("sent", f"{message.channel}:{message.ts}",
                                                                      RECONCILED_SENT)  # fmt: skip
    assert found.sent_at == posted_at(message.ts) and found.attempts == 1
    await age(timedelta(hours=2))
    assert await reconcile(channel) == NOTHING
    assert len(slack_sandbox.dm(TEAM, ANN)) == 1  # delivered once, recorded once


async def test_a_send_that_never_reached_slack_is_sent_again_once_the_lease_has_passed(
    database: str, slack_sandbox: SlackSandbox, channel: SlackChannel
) -> None:
    row = await one_row()
    slack_sandbox.fault_next("chat.postMessage", "disconnect")  # dropped before Slack carried it out
    assert await drain(channel) == {"sent": 0, "unknown": 1, "failed": 0}
    campaign = (await Delivery.get(id=row)).campaign_id
    assert (await Campaign.get(id=campaign)).status == "done"  # its only row was final
    # not there yet, but a request of that claim could still be on its way: nothing is concluded
    assert await reconcile(channel) == NOTHING | {"unknown": 1}
    await age(timedelta(seconds=LEASE + 60))
    assert await reconcile(channel) == NOTHING | {"requeued": 1}
    queued = await Delivery.get(id=row)
    assert (queued.status, queued.error) == ("queued", RECONCILED_AGAIN)
    assert (await Campaign.get(id=campaign)).status == "running"  # done only because the row was final
    assert await drain(channel) == {"sent": 1, "unknown": 0, "failed": 0}
    (message,) = slack_sandbox.dm(TEAM, ANN)
    assert message.metadata == metadata(row)
    sent = await Delivery.get(id=row)
    assert (sent.status, sent.provider_message_id, sent.attempts) == ("sent", f"{message.channel}:{message.ts}", 2)
    assert (await Campaign.get(id=campaign)).status == "done"


async def test_a_message_no_longer_wanted_is_failed_not_sent(
    database: str, slack_sandbox: SlackSandbox, channel: SlackChannel
) -> None:
    campaign = await add_campaign()
    ann, bob = await one_row(ANN, campaign=campaign), await one_row(BOB, campaign=campaign)
    slack_sandbox.fault_next("chat.postMessage", "disconnect", times=2)
    assert await drain(channel) == {"sent": 0, "unknown": 2, "failed": 0}
    (bob_later,) = await add_deliveries(campaign, "slack", [(2, f"{TEAM}:{BOB}")], step="s2")
    await Campaign.filter(id=campaign).update(status="running")
    assert await drain(channel) == {"sent": 1, "unknown": 0, "failed": 0}  # Bob's next message went out meanwhile
    # Bob's first now would arrive after his second; Ann's claim is two hours old: too late to send
    await age(timedelta(hours=2), ann)
    await age(timedelta(seconds=LEASE + 60), bob)
    assert await reconcile(channel) == NOTHING | {"failed": 2}
    for row in (ann, bob):
        failed = await Delivery.get(id=row)
        assert (failed.status, failed.error) == ("failed", RECONCILED_NOT_SENT)
    assert slack_sandbox.dm(TEAM, ANN) == [] and [m.metadata for m in slack_sandbox.dm(TEAM, BOB)] == [
        metadata(bob_later)
    ]


async def test_a_cancelled_campaigns_message_is_failed(
    database: str, slack_sandbox: SlackSandbox, channel: SlackChannel
) -> None:
    row = await one_row()
    slack_sandbox.fault_next("chat.postMessage", "disconnect")
    await drain(channel)
    await Campaign.filter(id=(await Delivery.get(id=row)).campaign_id).update(status="cancelled")
    await age(timedelta(seconds=LEASE + 60))
    assert await reconcile(channel) == NOTHING | {"failed": 1}
    assert slack_sandbox.dm(TEAM, ANN) == []


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 429, "retry_after": 30},
        {"status": 503},
        {"error": "missing_scope"},
        {"error": "invalid_auth"},
    ],
    ids=["429", "5xx", "missing-scope", "refused-token"],
)
async def test_a_history_that_cannot_be_read_leaves_the_row_unknown(
    database: str, slack_sandbox: SlackSandbox, channel: SlackChannel, failure: dict[str, object]
) -> None:
    row = await one_row()
    slack_sandbox.fault_next("chat.postMessage", "lost")  # carried out; the answer never came back
    assert await drain(channel) == {"sent": 0, "unknown": 1, "failed": 0}
    slack_sandbox.fail_next("conversations.history", **failure)  # type: ignore[arg-type]
    await age(timedelta(seconds=LEASE + 60))
    assert await reconcile(channel) == NOTHING | {"unknown": 1}  # unread is not "not found"
    assert (await Delivery.get(id=row)).status == "unknown"
    assert await reconcile(channel) == NOTHING | {"sent": 1}  # a later pass can read it
    assert [name for name, _ in slack_sandbox.requests].count("conversations.history") == 2
    assert len(slack_sandbox.dm(TEAM, ANN)) == 1


async def test_a_long_history_is_paged_within_a_budget_of_calls(
    database: str, slack_sandbox: SlackSandbox, token: str, session: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_reconcile, "PAGE", 2)
    channel = slack_channel(slack_sandbox, token, session)
    campaign = await add_campaign()
    first = await one_row(campaign=campaign)
    slack_sandbox.fault_next("chat.postMessage", "lost")
    await drain(channel)
    later = [(await add_deliveries(campaign, "slack", [(1, f"{TEAM}:{ANN}")], step=f"s{i}"))[0] for i in range(2, 7)]
    await Campaign.filter(id=campaign).update(status="running")
    assert (await drain(channel))["sent"] == 5
    assert [m.metadata for m in slack_sandbox.dm(TEAM, ANN)] == [metadata(r) for r in [first, *later]]

    # the first message is on the third page, newest first: two calls cannot tell, nor say it is not there
    scant = slack_channel(slack_sandbox, token, session, reconcile_calls=2)
    await age(timedelta(seconds=LEASE + 60))
    assert await reconcile(scant) == NOTHING | {"unknown": 1}
    slack_sandbox.requests.clear()
    assert await reconcile(channel) == NOTHING | {"sent": 1}
    calls = [params for name, params in slack_sandbox.requests if name == "conversations.history"]
    assert len(calls) == 3 and [bool(c.get("cursor")) for c in calls] == [False, True, True]
    assert all(c["include_all_metadata"] in ("1", "true", True) and c["channel"].startswith("D") for c in calls)
    (message, *_) = slack_sandbox.dm(TEAM, ANN)
    assert (await Delivery.get(id=first)).provider_message_id == f"{message.channel}:{message.ts}"


async def test_every_unknown_row_of_a_faulty_broadcast_ends_delivered_once(database: str, slack_spec: Path) -> None:
    users = [f"U0USER{i:04d}" for i in range(20)]
    async with (
        SlackSandbox(spec=slack_spec, fault_rate=0.3, fault="lost", seed=5) as sandbox,
        shared_session(timeout=5) as session,
    ):
        token = sandbox.add_team(TEAM, "Sandbox Shop")
        for user in users:
            sandbox.add_user(TEAM, user)
        channel = slack_channel(sandbox, token, session)
        customers = await add_customers("slack", [f"{TEAM}:{u}" for u in users])
        rows = await add_deliveries(
            await add_campaign(), "slack", [(c, f"{TEAM}:{u}") for c, u in zip(customers, users, strict=True)]
        )
        first = await drain(channel)  # a lost answer after a post, or after a DM was opened (nothing posted)
        assert first["unknown"] >= 3 and first["sent"] + first["unknown"] == 20
        sandbox.misfortune.fault_rate = 0.0
        await age(timedelta(seconds=LEASE + 60))
        done = await reconcile(channel)
        assert done["sent"] >= 1 and done["requeued"] >= 1 and done["failed"] == done["unknown"] == 0
        assert done["sent"] + done["requeued"] == first["unknown"]
        assert (await drain(channel))["sent"] == done["requeued"]
        for row, user in zip(rows, users, strict=True):
            (message,) = sandbox.dm(TEAM, user)  # once each: none twice, none lost
            sent = await Delivery.get(id=row)
            assert sent.status == "sent" and message.metadata == metadata(row)
            assert sent.provider_message_id == f"{message.channel}:{message.ts}"
        assert sandbox.violations == []

"""A dispatcher in a process of its own, for the crash test to kill; and the rows the dispatcher tests send.

    python tests/fakes/dispatch_worker.py DATABASE_URL TELEGRAM_SANDBOX_URL [--worker NAME] [--batch N]

drains the outbox through ``TelegramChannel`` (limits off) and exits 0; a leftover of a killed predecessor with
the same worker name becomes ``unknown`` first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage.models import Campaign, ChannelIdentity, Customer, Delivery

TOKEN = "123456:SANDBOX"
NO_LIMITS = {"telegram": 0.0, "telegram/chat": 0.0, "slack": 0.0, "slack/chat": 0.0}
BUTTONS = [{"text": "Shop now", "url": "https://shop.example/spring"}, {"text": "Stop", "action": "stop"}]


async def add_customers(
    channel: str, addresses: Sequence[str], *, first_id: int = 1, opted_out: bool = False
) -> list[int]:
    """Opted-in customers with one reachable identity each on ``channel``; their ids."""
    now = datetime.now(UTC)
    ids = list(range(first_id, first_id + len(addresses)))
    out = now if opted_out else None
    await Customer.bulk_create(
        [Customer(id=i, external_id=f"c{i}", name=f"Customer {i}", opted_in_at=now, opted_out_at=out) for i in ids],
        batch_size=1000,
    )
    await ChannelIdentity.bulk_create(
        [ChannelIdentity(customer_id=i, channel=channel, address=a) for i, a in zip(ids, addresses, strict=True)],
        batch_size=1000,
    )
    return ids


async def add_campaign(key: str = "spring", status: str = "running") -> int:
    """A campaign in ``status``; its id."""
    campaign = await Campaign.create(key=key, name=key, yaml="", yaml_hash="", status=status)
    return int(campaign.id)


async def add_deliveries(
    campaign_id: int,
    channel: str,
    recipients: Sequence[tuple[int, str]],
    *,
    step: str = "s1",
    text: str = "Spring sale: 20% off until Sunday",
    status: str = "queued",
    **fields: object,
) -> list[int]:
    """Queued deliveries of one step to (customer id, address) pairs; their ids, in order."""
    common = {"campaign_id": campaign_id, "step": step, "channel": channel, "text": text, "buttons": BUTTONS}
    rows = [Delivery(customer_id=c, address=a, status=status, **common, **fields) for c, a in recipients]
    await Delivery.bulk_create(rows, batch_size=1000)
    found = await Delivery.filter(campaign_id=campaign_id, step=step).order_by("id").values_list("id", "customer_id")
    by_customer = dict((customer, row_id) for row_id, customer in found)
    return [int(by_customer[customer_id]) for customer_id, _ in recipients]


async def work(url: str, api_url: str, worker: str, batch: int) -> None:
    """Drain the outbox as ``worker``."""
    from bots.telegram.app import build_bot
    from bots.telegram.channel import TelegramChannel
    from campaigns.delivery.dispatcher import Dispatcher
    from storage import db

    await db.connect(url)
    bot = build_bot(TOKEN, api_url=api_url, timeout=10)
    try:
        dispatcher = Dispatcher({"telegram": TelegramChannel(bot)}, worker=worker, batch=batch, rates=NO_LIMITS)
        stats = await dispatcher.drain()
        print(f"recovered and drained: {stats}", flush=True)
    finally:
        await bot.session.close()
        await db.close()


def main() -> None:
    """Parse the arguments and drain."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database")
    parser.add_argument("api_url")
    parser.add_argument("--worker", default="crash-test")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(work(args.database, args.api_url, args.worker, args.batch))


if __name__ == "__main__":
    main()

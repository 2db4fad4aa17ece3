"""Revenue that holds, lived from an empty database through the CLI and ``serve``'s orders webhook only: a shop in
euros imports its customers and history, launches a campaign to Telegram, then orders come in by the webhook (one
sent twice, one without a currency, one with a currency that is none) and by an export imported after the send
(new orders in pounds and yen, a webhook order again, a partial return). One credited order is cancelled by the
webhook. Each order is credited once, with its currency, net of what came back; the cancelled one keeps its event,
void; a repeated import changes nothing; the rates the marketer sets convert the revenue into euros, or name the
currency that has none."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chatcast.serve import ServiceState
from storage import db
from storage.models import Event
from storage.money import convert, rates
from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.journeys.chats import Chats
from tests.fakes.service import serving

pytestmark = pytest.mark.slow

MONDAY = datetime(2027, 4, 5, 10, tzinfo=UTC)
SECRET = "revenue-journey-secret"
CAMPAIGN = """\
id: spring-revenue
name: Spring revenue
channels: [telegram]
message:
  brief: The spring collection is in.
  template: "Hi {{ customer.first_name }}, the spring collection is in. {{ unsubscribe }}"
attribution_days: 7
"""
SEGMENTS = "personas:\n  - {id: everyone, description: Everyone., tone: Friendly.}\n"
PRODUCTS = "sku,name,category,price,currency\nRUN-1,Runner,running-shoes,90,EUR\nSOC-1,Sock,socks,10,EUR\n"
CUSTOMERS = "external_id,name,language,timezone,opted_in_at,telegram_chat_id\n" + "".join(
    f"C{n},Person {n},en,Europe/Berlin,2027-01-01T00:00:00+00:00,700{n}\n" for n in range(1, 5)
)
ORDER_COLUMNS = "order_id,line,customer_id,ordered_at,status,currency,sku,quantity,unit_price,return_of\n"


def hook(service: ServiceState, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The shop posts an order to ``POST /hooks/orders``; the status and the answer."""
    request = urllib.request.Request(
        f"{service.url}/hooks/orders",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Chatcast-Secret": SECRET},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(json.load(answer))
    except urllib.error.HTTPError as refused:
        return refused.code, dict(json.load(refused))


def order(order_id: str, customer: str, at: datetime, *lines: tuple[str, int, float], **fields: Any) -> dict[str, Any]:
    """A paid order of ``lines`` (sku, quantity, unit price)."""
    body = {"order_id": order_id, "customer_id": customer, "ordered_at": at.isoformat(), "status": "paid",
            "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines]}  # fmt: skip
    return body | fields


async def credits(url: str) -> dict[str, dict[str, Any]]:
    """Every converted event's data, by order (read: a journey never writes into the database)."""
    async with db.database(url):
        events = await Event.filter(type="converted").values("data", "order_id")
    assert len({e["order_id"] for e in events}) == len(events), "one credit per order"
    return {e["data"]["order"]: e["data"] for e in events}


async def stored_rates(url: str) -> dict[str, float]:
    """The exchange rates as stored."""
    async with db.database(url):
        return await rates()


def test_orders_from_the_webhook_and_an_import_are_credited_once_net_of_what_came_back(
    shop: Path, backend: str, cli: Cli, chats: Chats, clock: WallClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATCAST_ORDER_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("CHATCAST_SHOP_CURRENCY", "EUR")
    clock.to(MONDAY)
    (shop / "segments.yaml").write_text(SEGMENTS, encoding="utf-8")
    (shop / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    (shop / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (shop / "spring.yaml").write_text(CAMPAIGN, encoding="utf-8")
    before = (MONDAY - timedelta(days=3)).isoformat()
    (shop / "history.csv").write_text(ORDER_COLUMNS + f"H1,1,C3,{before},delivered,,SOC-1,1,10,\n", encoding="utf-8")
    for kind, name in (("products", "products.csv"), ("customers", "customers.csv"), ("orders", "history.csv")):
        assert "credited" not in cli.ok("import", kind, name)
    cli.ok("segments", "refresh", "--file", "segments.yaml")
    assert "sent 4, failed 0" in cli.ok("campaign", "launch", "spring.yaml", "--segments", "segments.yaml")

    clock.to(MONDAY + timedelta(days=1))
    at = MONDAY + timedelta(hours=20)
    main = {"campaign": "spring-revenue", "step": "main"}
    with serving() as service:
        w1 = order("W1", "C1", at, ("RUN-1", 1, 90.0), currency="EUR")
        assert hook(service, w1) == (200, {"order": "W1", "attributed_to": main, "notices_queued": 1})
        assert hook(service, w1)[1]["attributed_to"] == main  # the shop sent it again
        w2 = order("W2", "C2", at, ("RUN-1", 1, 90.0), ("SOC-1", 2, 10.0))  # no currency: the shop's
        assert hook(service, w2)[1]["attributed_to"] == main
        status, refused = hook(service, order("W3", "C2", at, ("RUN-1", 1, 90.0), currency="EURO"))
        assert (status, refused["field"]) == (422, "currency")
        cancelled = hook(service, w1 | {"status": "cancelled"})
        assert cancelled == (200, {"order": "W1", "attributed_to": main | {"void": "cancelled"}, "notices_queued": 0})

    clock.to(MONDAY + timedelta(days=2))
    after = (MONDAY + timedelta(days=1, hours=2)).isoformat()
    export = ORDER_COLUMNS + "".join(
        (
            f"O1,1,C3,{after},paid,GBP,RUN-1,1,79.5,\n",  # new: in pounds
            f"O2,1,C4,{after},paid,jpy,SOC-1,3,1500,\n",  # new: in yen (the code in lower case)
            f"W2,1,C2,{at.isoformat()},paid,EUR,RUN-1,1,90,\n",  # the webhook's order, exported too
            f"W2,2,C2,{at.isoformat()},paid,EUR,SOC-1,2,10,\n",
            f"R2,1,C2,{after},returned,EUR,SOC-1,-1,10,W2\n",  # a sock of W2 came back
            f"H1,1,C3,{before},delivered,EUR,SOC-1,1,10,\n",  # history again: before the send
        )
    )
    (shop / "orders.csv").write_text(export, encoding="utf-8")
    imported = cli.ok("import", "orders", "orders.csv")
    assert "2 orders credited to campaigns" in imported and "1 credited order changed" in imported
    assert "voided" not in imported

    got = asyncio.run(credits(backend))
    assert set(got) == {"W1", "W2", "O1", "O2"}
    void = got["W1"]
    assert (void["total"], void["gross"], void["currency"], void["void"]) == (0.0, 90.0, "EUR", "cancelled")
    assert MONDAY + timedelta(days=1) <= datetime.fromisoformat(void["voided_at"]) <= datetime.now(UTC)
    figures = {k: (d["total"], d["gross"], d["currency"], d["step"], "void" in d) for k, d in got.items() if k != "W1"}
    assert figures == {
        "W2": (100.0, 110.0, "EUR", "main", False),
        "O1": (79.5, 79.5, "GBP", "main", False),
        "O2": (4500.0, 4500.0, "JPY", "main", False),
    }

    again = cli.ok("import", "orders", "orders.csv")  # the same export once more: nothing changes
    assert "credited" not in again and asyncio.run(credits(backend)) == got

    revenue: dict[str, float] = {}
    for data in got.values():
        revenue[data["currency"]] = revenue.get(data["currency"], 0.0) + data["total"]
    cli.ok("config", "rates", "set", "GBP", "1.17")
    assert convert(revenue, asyncio.run(stored_rates(backend)), "EUR") == (None, ["JPY"])  # never mixed silently
    (shop / "rates.csv").write_text("currency,rate\nJPY,0.0062\nGBP,1.16\n", encoding="utf-8")
    assert "2 exchange rates into EUR set" in cli.ok("config", "rates", "import", "rates.csv")
    in_euros = round(100 + 79.5 * 1.16 + 4500 * 0.0062, 4)
    assert convert(revenue, asyncio.run(stored_rates(backend)), "EUR") == (in_euros, [])

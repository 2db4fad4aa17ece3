"""``POST /hooks/orders`` on the running service: the shared secret, clear refusals, storage and attribution."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from chatcast.serve import run_service
from chatcast.settings import Settings
from storage.models import Campaign, Customer, Delivery, Event, Order, Product

SECRET = "orders-hook-shared-secret"
SENT = datetime(2027, 4, 1, 10, tzinfo=UTC)
YAML = """\
id: spring
name: Spring
channels: [telegram]
message: {brief: b, template: "t {{ unsubscribe }}"}
attribution_days: 7
"""


def order(order_id: str, at: datetime, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": "C1",
        "ordered_at": at.isoformat(),
        "currency": "EUR",
        "lines": [{"sku": "RUN-1", "quantity": 1, "unit_price": 89.9}],
    }
    return {**body, **changes}


async def test_orders_are_stored_and_credited_to_the_last_touch_within_the_window(
    database: str, tmp_path: Path
) -> None:
    customer = await Customer.create(external_id="C1", name="Ann", opted_in_at=SENT - timedelta(days=9))
    await Product.create(sku="RUN-1", name="Runner", price=89.9, currency="EUR")
    campaign = await Campaign.create(key="spring", name="Spring", yaml=YAML, yaml_hash="", status="running")
    await Delivery.create(
        campaign=campaign, step="main", customer=customer, channel="telegram", address="1", status="sent", sent_at=SENT
    )
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url=database,
        order_webhook_secret=SECRET,
        segments_file=tmp_path / "none.yaml",
    )
    stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_service(settings, host="127.0.0.1", port=0, stop=stop, ready=ready.set_result))
    state = await asyncio.wait_for(ready, 60)
    url = f"{state.url}/hooks/orders"
    try:
        async with aiohttp.ClientSession() as http:

            async def post(body: Any, secret: str = SECRET, raw: str | None = None) -> tuple[int, dict[str, Any]]:
                headers = {"X-Chatcast-Secret": secret, "Content-Type": "application/json"}
                kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
                async with http.post(url, headers=headers, **kwargs) as response:
                    return response.status, await response.json()

            assert await post(order("A1", SENT + timedelta(days=2)), secret="wrong") == (
                401,
                {"error": "missing or wrong X-Chatcast-Secret", "field": "X-Chatcast-Secret"},
            )
            assert await post(None, raw="{not json") == (
                400,
                {"error": "the body is not valid JSON (Expecting property name enclosed in double quotes at column 2)",
                 "field": None},
            )  # fmt: skip
            # the two 500s: JSON nested past Python's recursion limit, and a NUL PostgreSQL cannot store
            deep = '{"order_id": ' + "[" * 100_000 + "]" * 100_000 + "}"
            assert await post(None, raw=deep) == (
                400,
                {"error": "the body is nested deeper than 20 levels", "field": None},
            )
            assert await post(order("A\x00", SENT)) == (
                422,
                {"error": "order_id: contains a NUL character", "field": "order_id"},
            )
            status, body = await post(order("A1", SENT, lines=[{"sku": "RUN-1", "quantity": 2**63, "unit_price": 1}]))
            assert (status, body["field"]) == (422, "lines[0].quantity") and "less than or equal to 1000000" in body[
                "error"
            ]
            assert await post(None, raw=json.dumps(order("A1", SENT)).replace("89.9", "NaN")) == (
                400,
                {"error": "the body is not valid JSON (NaN is not a number JSON allows)", "field": None},
            )
            assert await post([order("A1", SENT)]) == (
                400,
                {"error": "the body must be a JSON object (an order)", "field": None},
            )
            status, body = await post(order("A1", SENT, lines=[{"sku": "NOPE", "quantity": 1, "unit_price": 1}]))
            assert (status, body["field"]) == (422, "lines[0].sku") and "NOPE" in body["error"]
            status, body = await post({k: v for k, v in order("A1", SENT).items() if k != "ordered_at"})
            assert (status, body["field"]) == (422, "ordered_at")
            status, body = await post(order("A1", SENT) | {"carrier": "www.promo.example"})
            assert (status, body["field"]) == (422, "carrier") and "not a carrier's name" in body["error"]
            status, body = await post(order("A1", SENT, currency="EURO"))  # never a silent USD
            assert (status, body["field"]) == (422, "currency") and "not an ISO 4217 currency code" in body["error"]
            assert await Order.all().count() == 0  # nothing stored by a refused order

            good = order("A1", SENT + timedelta(days=2))
            credit = {"campaign": "spring", "step": "main"}
            expected = (200, {"order": "A1", "attributed_to": credit, "notices_queued": 0})  # C1 has no chat
            assert await post(good) == expected
            assert await post(good) == expected  # sent again: the same answer, nothing twice
            late = order("A2", SENT + timedelta(days=8))  # past the campaign's 7 attribution days
            assert await post(late) == (200, {"order": "A2", "attributed_to": None, "notices_queued": 0})
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    assert await Order.all().count() == 2
    [converted] = await Event.filter(type="converted").values("campaign_id", "delivery_id", "data", "customer_id")
    assert converted["campaign_id"] == campaign.id and converted["customer_id"] == customer.id
    assert converted["data"]["order"] == "A1" and converted["data"]["total"] == 89.9

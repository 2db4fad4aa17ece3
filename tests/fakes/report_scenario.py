"""A campaign report's scenario whose every event is known: the report tests count it, the dashboard shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.models import Campaign, Customer, Delivery, Event, Order

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
YAML = "id: june\nname: June\nattribution_days: 7\n"


async def add_delivery(campaign: Campaign, n: int, **fields: object) -> Delivery:
    """Customer ``n`` and a delivery of ``campaign`` to them (a sent step ``main`` of variant A by default)."""
    customer = await Customer.create(external_id=f"c{n}", name=f"C {n}")
    defaults = {"step": "main", "channel": "telegram", "variant": "A", "persona": "runner", "status": "sent"}
    values = defaults | fields
    if values["status"] == "sent" and "sent_at" not in values:
        values["sent_at"] = T0 + timedelta(hours=n % 30)
    return await Delivery.create(campaign=campaign, customer=customer, address=str(n), **values)


async def add_event(kind: str, d: Delivery, at: datetime, **data: object) -> None:
    """An event of ``kind`` about the delivery ``d``."""
    await Event.create(type=kind, customer_id=d.customer_id, campaign_id=d.campaign_id, delivery=d, at=at, data=data)  # type: ignore[attr-defined]


async def load_scenario() -> Campaign:
    """10 sent A (runner, telegram), 8 sent B (vip, slack), 3 held out, 2 failed, 1 unknown, 3 skipped (2 opted
    out, 1 capped), 1 planned; 4 reminders sent. A: 3 clicked (one twice), 2 replied, 2 converted (50 + 30);
    B: 1 converted (100); one A customer opted out after the message, one B customer before the campaign."""
    campaign = await Campaign.create(key="june", name="June", yaml=YAML, yaml_hash="h", status="running")
    a = [await add_delivery(campaign, n) for n in range(10)]
    b = [await add_delivery(campaign, 10 + n, variant="B", persona="vip", channel="slack") for n in range(8)]
    held = [await add_delivery(campaign, 20 + n, status="holdout") for n in range(3)]
    for n, (status, note) in enumerate(
        [("failed", None), ("failed", None), ("unknown", None), ("skipped", "opted_out"), ("skipped", "opted_out"),
         ("skipped", "frequency_cap"), ("planned", None)]
    ):  # fmt: skip
        await add_delivery(campaign, 30 + n, status=status, note=note, variant="B", persona="vip", channel="slack")
    for n in range(4):
        await Delivery.create(campaign=campaign, customer_id=a[n].customer_id, address=str(n), step="reminder",  # type: ignore[attr-defined]
                              channel="telegram", variant="A", persona="runner", status="sent",
                              sent_at=T0 + timedelta(days=2))  # fmt: skip
    later = T0 + timedelta(days=1)
    for d in (a[0], a[1], a[2], a[2]):
        await add_event("clicked", d, later)
    for d in (a[3], a[4]):
        await add_event("replied", d, later)
    await add_event("converted", a[0], later, total=50.0, order="o1", currency="EUR")
    await add_event("converted", a[1], later + timedelta(days=1), total=30.0, order="o2", currency="EUR")
    await add_event("converted", b[0], later, total=100.0, order="o3", currency="EUR")
    await Event.create(type="opted_out", customer_id=a[5].customer_id, at=T0 + timedelta(days=3), data={})  # type: ignore[attr-defined]
    await Event.create(type="opted_out", customer_id=b[1].customer_id, at=T0 - timedelta(days=30), data={})  # type: ignore[attr-defined]
    # orders for the lift: 3 sent customers bought in the window, 1 held-out customer did; one after the window
    for n, d in enumerate((a[0], a[1], b[0], held[0], held[1])):
        at = later if n < 4 else T0 + timedelta(days=30)
        await Order.create(external_id=f"o{n + 1}", customer_id=d.customer_id, ordered_at=at, total=10)  # type: ignore[attr-defined]
    return campaign

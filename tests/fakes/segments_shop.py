"""A five-customer shop whose every feature is known by hand, for rule tests on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from segments.definitions import Definitions, parse
from segments.refresh import refresh
from storage import db
from storage.models import ChannelIdentity, Customer, Event, Order, OrderItem, Product

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CATCH_ALL = parse("personas:\n  - id: everyone\n    description: all\n    tone: plain\n")


def ago(days: int) -> datetime:
    """A moment ``days`` whole days before ``AS_OF``."""
    return AS_OF - timedelta(days=days)


async def build() -> dict[str, Customer]:
    """Customers A-E with products, orders, returns, identities, consent and events; features refreshed.

    A: en/US, tags club+newsletter, 12 running-shoe orders of 100 (5..280 days ago, one with a code 20 days
       ago), a return of 100 15 days ago; opted in; telegram.
    B: de/DE, newsletter, gift-sets orders of 50 (200 days ago) and 100 (100 days ago), both with codes;
       opted in then out; slack.
    C: fr, no country, one socks order of 30 ten days ago; clicked 3 and 50 days ago, replied 40 days ago;
       never opted in; telegram unreachable.
    D: en/GB, no orders, opted in, slack; attribute visits is the text "12".
    E: pt-BR, no country, a running-shoe order of 100 400 days ago returned 390 days ago.
    """
    run = await Product.create(sku="P-RUN", name="Runner", category="running-shoes", price=100)
    gift = await Product.create(sku="P-GIFT", name="Gift set", category="gift-sets", price=50)
    sock = await Product.create(sku="P-SOCK", name="Socks", category="socks", price=10)
    people = {
        "A": dict(
            language="en",
            country="US",
            timezone="America/New_York",
            tags=["club", "newsletter"],
            attributes={"tier": "gold", "visits": 12, "vip": True},
            opted_in_at=ago(500),
        ),
        "B": dict(
            language="de",
            country="DE",
            timezone="Europe/Berlin",
            tags=["newsletter"],
            attributes={"tier": "silver", "visits": 3},
            opted_in_at=ago(300),
            opted_out_at=ago(30),
        ),
        "C": dict(language="fr", country=None, timezone="Europe/Paris"),
        "D": dict(language="en", country="GB", attributes={"visits": "12"}, opted_in_at=ago(10)),
        "E": dict(language="pt-BR", country=None),
    }
    customers = {
        key: await Customer.create(external_id=key, name=f"Customer {key}", **kw) for key, kw in people.items()
    }
    for key, channel, reachable in (
        ("A", "telegram", True),
        ("B", "slack", True),
        ("C", "telegram", False),
        ("D", "slack", True),
    ):
        await ChannelIdentity.create(
            customer=customers[key], channel=channel, address=f"{key}-{channel}", reachable=reachable
        )
    n = 0

    async def order(key: str, days: int, product: Product, qty: int, code: str | None = None) -> None:
        nonlocal n
        n += 1
        total = qty * product.price
        o = await Order.create(
            external_id=f"O{n}",
            customer=customers[key],
            ordered_at=ago(days),
            total=total,
            is_return=qty < 0,
            discount_code=code,
            status="returned" if qty < 0 else "paid",
        )
        await OrderItem.create(order=o, line=1, product=product, quantity=qty, unit_price=product.price)

    for days in (5, 20, 40, 60, 80, 100, 130, 160, 190, 220, 250, 280):
        await order("A", days, run, 1, "SAVE10" if days == 20 else None)
    await order("A", 15, run, -1)
    await order("B", 200, gift, 1, "X")
    await order("B", 100, gift, 2, "Y")
    await order("C", 10, sock, 3)
    await order("E", 400, run, 1)
    await order("E", 390, run, -1)
    for days, kind in ((3, "clicked"), (50, "clicked"), (40, "replied")):
        await Event.create(type=kind, customer=customers["C"], at=ago(days), data={})
    await refresh(CATCH_ALL, dialect=db.dialect(), as_of=AS_OF)
    return customers


def definitions(text: str) -> Definitions:
    """Definitions from YAML text (a test's own file)."""
    return parse(text, "test.yaml")

"""A small shop for the journeys of the sample campaigns, written as a shop's export would be.

Each person is drawn to land in one persona of ``examples/shop/segments.yaml`` (and in or out of the segments the
campaigns of ``examples/shop/campaigns/`` name) as of the day the journey starts: their orders are dated back
from that day. The files use the documented CSV columns (docs/importing.md), so the journey
imports them with ``chatcast import`` like any shop's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from tests.fakes.environment import EXAMPLES
from tests.fakes.journeys.chats import TEAM

SEGMENTS = EXAMPLES / "segments.yaml"
CAMPAIGNS = EXAMPLES / "campaigns"

# sku: (name, category, price in EUR)
PRODUCTS = {
    "RUN-1": ("Tempo Volt", "running-shoes", 120.0),
    "RUN-2": ("Pace Grey", "running-shoes", 95.0),
    "RUN-3": ("Cloud Stride Blue", "running-shoes", 140.0),
    "WAT-0006": ("GPS Watch Forest", "watches", 399.0),
    "WAT-0016": ("Trail Watch Sand", "watches", 449.0),
    "SOC-1": ("Merino Sock", "socks", 15.0),
    "APP-1": ("Rain Shell", "apparel", 110.0),
    "OUT-1": ("Trail Pack", "outdoor", 160.0),
    "OUT-2": ("Trekking Poles", "outdoor", 90.0),
}
URL = "https://shop.example.com/p/{sku}"


@dataclass(frozen=True)
class Buy:
    """One order of one line: how many days before the journey starts, what, and with which code."""

    days_ago: int
    sku: str
    quantity: int = 1
    code: str = ""


@dataclass(frozen=True)
class Person:
    """A customer: their chat (a Telegram chat id, or a Slack user ``U...`` of the shop's workspace), zone,
    consent and tags, and what they bought."""

    key: str
    name: str
    chat: str
    zone: str
    orders: tuple[Buy, ...] = ()
    tags: str = ""
    opted_in: bool = True

    @property
    def first(self) -> str:
        """The first name, as messages greet them."""
        return self.name.split()[0]

    @property
    def slack(self) -> bool:
        """Whether their chat is Slack (else Telegram)."""
        return self.chat.startswith("U")


def _vip(last: int, *, recent: tuple[Buy, ...] = ()) -> tuple[Buy, ...]:
    """Ten orders of outdoor gear a month apart, the last ``last`` days ago, then ``recent`` ones."""
    return tuple(Buy(last + 30 * i, "OUT-1") for i in range(10)) + recent


def _lapsed(last: int) -> tuple[Buy, ...]:
    """Four orders of watches, the last ``last`` days ago: a big spender gone quiet."""
    return tuple(Buy(last + 40 * i, "WAT-0016") for i in range(4))


@dataclass
class Cast:
    """The people of the shop, by key."""

    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Person:
        return self.people[key]

    def __iter__(self) -> Iterator[Person]:
        return iter(self.people.values())


def cast() -> Cast:
    """Everyone, by the persona and segments they fall in on the journey's first day."""
    people = [
        # runners of the last 90 days: new, bargain hunters, everyone else (spring-sale)
        Person("S1", "Nina Vogel", "7101", "Europe/Berlin", (Buy(10, "RUN-2"),)),
        Person(
            "S2",
            "Sam Cole",
            "U0SAM",
            "America/New_York",
            tuple(Buy(d, s, code="SAVE10") for d, s in ((20, "RUN-3"), (120, "SOC-1"), (200, "SOC-1"))),
        ),
        Person("S3", "Emi Ito", "7103", "Asia/Tokyo", (Buy(40, "RUN-1"), Buy(70, "SOC-1"))),
        Person("S4", "Tom Hill", "7104", "Europe/London", (Buy(60, "RUN-2"), Buy(65, "SOC-1"))),
        Person("S5", "Lea Roth", "7105", "Europe/Berlin", (Buy(30, "RUN-3"), Buy(80, "SOC-1"))),
        Person("S6", "Max Weber", "7106", "Europe/Berlin", (Buy(50, "RUN-1"), Buy(90, "SOC-1")), opted_in=False),
        Person("S7", "Ana Ruiz", "7107", "Europe/Madrid", (Buy(35, "RUN-2"), Buy(75, "SOC-1"))),
        Person("S8", "Ben Ford", "7108", "Europe/London", (Buy(45, "RUN-1"), Buy(85, "SOC-1"))),
        Person("S9", "Cleo Park", "U0CLEO", "America/Chicago", (Buy(25, "RUN-2"), Buy(95, "SOC-1"))),
        Person("S10", "Dirk Lang", "7110", "Europe/Berlin", (Buy(55, "RUN-3"), Buy(100, "SOC-1"))),
        Person("S11", "Eva Nagy", "7111", "Europe/Vienna", (Buy(30, "SOC-1"), Buy(60, "SOC-1"))),  # no shoes
        # vip (10 orders, recent): spring-sale excludes them; vip-early-access takes the club and big spenders
        Person("V1", "Vera Kraus", "7001", "Europe/Berlin", _vip(12, recent=(Buy(20, "RUN-1"),)), tags="club"),
        Person("V2", "Walt Green", "U0WALT", "America/New_York", _vip(45, recent=(Buy(8, "WAT-0006"),))),
        Person("V3", "Yui Sato", "7003", "Asia/Tokyo", _vip(15), tags="club"),
        Person("V4", "Hugo Martin", "7004", "Europe/Paris", _vip(18), tags="club"),
        Person("V5", "Olga Berg", "7005", "Europe/Berlin", _vip(60)),  # neither club nor a recent big spender
        Person("V6", "Ivan Petrov", "7006", "Europe/Berlin", _vip(25), tags="club"),
        # lapsed big spenders (winback), a lapsed small one and one at risk
        Person("L1", "Karl Brandt", "7201", "Europe/Berlin", _lapsed(200)),
        Person("L2", "Ruth Ames", "U0RUTH", "America/Chicago", _lapsed(250)),
        Person("L3", "Pia Lund", "7203", "Europe/Stockholm", _lapsed(190)),
        Person("L4", "Omar Said", "7204", "Europe/Berlin", (Buy(400, "SOC-1"),)),
        Person("L5", "Gus Moreau", "7205", "Europe/Paris", _lapsed(220)),
        Person("L6", "Hana Kato", "7206", "Asia/Tokyo", _lapsed(300)),
        Person("L7", "Iris Falk", "7207", "Europe/Berlin", _lapsed(260)),
        Person("L8", "Nora Quist", "7208", "Europe/Berlin", _lapsed(210)),
        Person("A1", "Jon Berg", "7301", "Europe/Berlin", tuple(Buy(100 + 20 * i, "APP-1") for i in range(4))),
    ]
    return Cast({p.key: p for p in people})


CUSTOMERS = "external_id,name,language,timezone,tags,opted_in_at,telegram_chat_id,slack_user\n"
ORDERS = "order_id,line,customer_id,ordered_at,status,currency,discount_code,sku,quantity,unit_price\n"


def write(folder: Path, people: Cast, today: datetime) -> None:
    """The shop's products, customers and past orders as CSV files in ``folder``, orders dated back from ``today``."""
    products = ["sku,name,category,price,currency,url,stock\n"]
    products += [f"{sku},{n},{c},{p},EUR,{URL.format(sku=sku.lower())},50\n" for sku, (n, c, p) in PRODUCTS.items()]
    (folder / "products.csv").write_text("".join(products), encoding="utf-8")
    customers, orders = [CUSTOMERS], [ORDERS]
    consent = (today - timedelta(days=400)).isoformat()
    for person in people:
        telegram, slack = ("", f"{TEAM}/{person.chat}") if person.slack else (person.chat, "")
        given = consent if person.opted_in else ""
        customers.append(f"{person.key},{person.name},en,{person.zone},{person.tags},{given},{telegram},{slack}\n")
        for i, buy in enumerate(person.orders):
            at = (today - timedelta(days=buy.days_ago)).isoformat()
            price = PRODUCTS[buy.sku][2]
            orders.append(
                f"H-{person.key}-{i},1,{person.key},{at},delivered,EUR,{buy.code},{buy.sku},{buy.quantity},{price}\n"
            )
    (folder / "customers.csv").write_text("".join(customers), encoding="utf-8")
    (folder / "orders.csv").write_text("".join(orders), encoding="utf-8")

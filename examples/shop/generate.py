"""Write the sample shop (products, customers, orders as CSV), deterministically, at any scale.

    python examples/shop/generate.py                      # the committed sample: ~5,000 customers
    python examples/shop/generate.py --customers 1000000 --out /tmp/big   # benchmark data

The same seed always gives byte-identical files. Customers follow behaviour profiles (VIP, bargain
hunter, new, lapsed, at-risk, gift shopper, regular) so that personas have someone to find.
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261124
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

CATEGORIES: dict[str, tuple[float, float, list[str]]] = {
    "running-shoes": (79, 189, ["Road Runner", "Tempo", "Cloud Stride", "Marathon Pro", "Pace"]),
    "trail-shoes": (99, 209, ["Ridge", "Summit Grip", "Mudguard", "Canyon", "Switchback"]),
    "apparel": (19, 129, ["Tee", "Singlet", "Half-Zip", "Rain Shell", "Tights", "Shorts"]),
    "socks": (9, 24, ["Crew Sock", "No-Show Sock", "Merino Sock", "Compression Sock"]),
    "accessories": (8, 59, ["Cap", "Headlamp", "Hydration Belt", "Armband", "Gloves"]),
    "watches": (149, 599, ["GPS Watch", "HR Strap", "Smart Band", "Trail Watch"]),
    "nutrition": (2, 39, ["Energy Gel", "Electrolyte Mix", "Protein Bar", "Recovery Shake"]),
    "outdoor": (29, 249, ["Trail Pack", "Trekking Poles", "Bivvy", "Camp Stove", "Water Filter"]),
    "gift-sets": (25, 99, ["Runner Gift Box", "Trail Starter Kit", "Recovery Bundle", "Stocking Filler"]),
    "gift-cards": (25, 200, ["Gift Card"]),
}
COLOURS = ["Black", "Blue", "Red", "Volt", "Grey", "Forest", "Sand", "Ocean", "Sunset", "White"]
LOCALES: list[tuple[str, str, list[str], float]] = [
    ("en", "US", ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"], 0.30),
    ("en", "GB", ["Europe/London"], 0.12),
    ("de", "DE", ["Europe/Berlin"], 0.12),
    ("fr", "FR", ["Europe/Paris"], 0.09),
    ("es", "ES", ["Europe/Madrid"], 0.07),
    ("es", "MX", ["America/Mexico_City"], 0.05),
    ("pt-BR", "BR", ["America/Sao_Paulo"], 0.07),
    ("en", "AU", ["Australia/Sydney"], 0.06),
    ("en", "NZ", ["Pacific/Auckland"], 0.03),
    ("en", "US", ["Pacific/Honolulu"], 0.02),
    ("ja", "JP", ["Asia/Tokyo"], 0.04),
    ("it", "IT", ["Europe/Rome"], 0.03),
]
FIRST = {
    "en": ["Olivia", "Liam", "Emma", "Noah", "Ava", "James", "Mia", "Lucas", "Grace", "Ethan", "Chloe", "Jack"],
    "de": ["Lena", "Jonas", "Mia", "Leon", "Hannah", "Paul", "Emilia", "Felix", "Clara", "Lukas"],
    "fr": ["Louise", "Gabriel", "Jade", "Raphaël", "Chloé", "Arthur", "Léa", "Hugo", "Manon", "Jules"],
    "es": ["Lucía", "Hugo", "Sofía", "Martín", "Valentina", "Mateo", "Paula", "Diego", "Carmen", "Pablo"],
    "pt-BR": ["Ana", "Miguel", "Helena", "Arthur", "Alice", "Heitor", "Laura", "Davi", "Beatriz", "Théo"],
    "ja": ["Yui", "Haruto", "Hina", "Sota", "Sakura", "Ren", "Aoi", "Yuto"],
    "it": ["Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Alessandro", "Chiara", "Lorenzo"],
}
LAST = {
    "en": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Green", "O'Neil"],
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann"],
    "fr": ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Lefèvre"],
    "es": ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"],
    "pt-BR": ["Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida", "Lima"],
    "ja": ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto"],
    "it": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo"],
}
# profile: share, orders (min, max), days since last order (min, max), span of history in days, discount share
PROFILES: dict[str, tuple[float, tuple[int, int], tuple[int, int], int, float]] = {
    "vip": (0.05, (10, 30), (1, 40), 720, 0.05),
    "bargain": (0.15, (4, 9), (5, 120), 540, 0.85),
    "new": (0.10, (1, 1), (1, 28), 0, 0.2),
    "lapsed": (0.15, (1, 5), (200, 600), 400, 0.2),
    "at_risk": (0.10, (4, 10), (60, 150), 500, 0.15),
    "gift": (0.10, (2, 4), (10, 330), 720, 0.1),
    "regular": (0.35, (1, 4), (10, 365), 365, 0.15),
}
CUSTOMER_COLUMNS = [
    "external_id",
    "name",
    "email",
    "language",
    "timezone",
    "country",
    "tags",
    "opted_in_at",
    "opted_out_at",
    "consent_source",
    "telegram_chat_id",
    "slack_user",
    "attr_loyalty_tier",
    "attr_birthday_month",
]
ORDER_COLUMNS = [
    "order_id",
    "line",
    "customer_id",
    "ordered_at",
    "status",
    "currency",
    "discount_code",
    "sku",
    "quantity",
    "unit_price",
]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "")


def _pick_weighted(rng: random.Random, items: list[tuple[str, float]]) -> str:
    roll, acc = rng.random(), 0.0
    for name, weight in items:
        acc += weight
        if roll < acc:
            return name
    return items[-1][0]


def products(rng: random.Random, count: int) -> list[dict[str, object]]:
    """``count`` products spread over the categories, with prices, stock and URLs."""
    rows = []
    cats = list(CATEGORIES)
    for i in range(count):
        cat = cats[i % len(cats)]
        low, high, nouns = CATEGORIES[cat]
        noun = nouns[(i // len(cats)) % len(nouns)]
        colour = COLOURS[(i * 7 + i // len(cats)) % len(COLOURS)]
        sku = f"{cat[:3].upper()}-{i + 1:04d}"
        price = round(rng.uniform(low, high)) - 0.01 if cat != "gift-cards" else float(rng.choice([25, 50, 100, 200]))
        rows.append(
            {
                "sku": sku,
                "name": f"{noun} {colour}" if cat != "gift-cards" else f"Gift Card {price:.0f}",
                "category": cat,
                "price": f"{price:.2f}",
                "currency": "USD",
                "url": f"https://shop.example.com/p/{sku.lower()}",
                "stock": 0 if rng.random() < 0.06 else rng.randint(3, 400),
                "tags": ";".join(sorted({cat.split("-")[0], "gift" if cat.startswith("gift") else "sport"})),
                "description": f"{noun} in {colour.lower()}.",
            }
        )
    return rows


def customers_and_orders(
    rng: random.Random, count: int, catalog: list[dict[str, object]], lines_per_order: tuple[int, int] = (1, 3)
) -> Iterator[tuple[dict[str, object], list[dict[str, object]]]]:
    """Yield each customer with their order lines, one at a time (flat memory at any scale)."""
    locales = [(f"{i}", w) for i, (_, _, _, w) in enumerate(LOCALES)]
    profiles = [(name, p[0]) for name, p in PROFILES.items()]
    by_cat: dict[str, list[dict[str, object]]] = {}
    for p in catalog:
        by_cat.setdefault(str(p["category"]), []).append(p)
    sport = [c for c in by_cat if not c.startswith("gift")]
    order_no = 0
    for n in range(1, count + 1):
        lang, country, zones, _ = LOCALES[int(_pick_weighted(rng, locales))]
        first = rng.choice(FIRST[lang.split("-")[0] if lang != "pt-BR" else lang])
        last = rng.choice(LAST[lang.split("-")[0] if lang != "pt-BR" else lang])
        profile = _pick_weighted(rng, profiles)
        _, (omin, omax), (rmin, rmax), span, discount_share = PROFILES[profile]
        n_orders = rng.randint(omin, omax)
        last_days = rng.randint(rmin, rmax)
        joined = NOW - timedelta(days=last_days + span + rng.randint(0, 60))
        opted = rng.random() < 0.72
        opted_in = joined + timedelta(hours=rng.randint(1, 500)) if opted else None
        opted_out = opted_in + timedelta(days=rng.randint(5, 200)) if opted_in and rng.random() < 0.05 else None
        customer = {
            "external_id": f"C{n:06d}",
            "name": f"{first} {last}",
            "email": _ascii(f"{first.lower()}.{last.lower()}{n}@example.com"),
            "language": lang,
            "timezone": rng.choice(zones),
            "country": country,
            "tags": ";".join(t for t in ("newsletter" if opted else "", "club" if profile == "vip" else "") if t),
            "opted_in_at": opted_in.isoformat() if opted_in else "",
            "opted_out_at": opted_out.isoformat() if opted_out else "",
            "consent_source": rng.choice(["website", "checkout", "telegram", "slack"]) if opted else "",
            "telegram_chat_id": 100_000_000 + n if rng.random() < 0.45 else "",
            "slack_user": f"T0SHOP01/U{n:08d}" if rng.random() < 0.2 else "",
            "attr_loyalty_tier": {"vip": "gold", "at_risk": "silver", "bargain": "bronze"}.get(profile, ""),
            "attr_birthday_month": rng.randint(1, 12) if rng.random() < 0.4 else "",
        }
        lines: list[dict[str, object]] = []
        favourite = rng.choice(sport)
        for k in range(n_orders):
            days_ago = last_days if k == n_orders - 1 else last_days + rng.randint(1, max(span, 1))
            when = NOW - timedelta(days=days_ago, minutes=rng.randint(0, 1439))
            if profile == "gift":
                when = when.replace(month=12 if rng.random() < 0.6 else when.month, day=min(when.day, 20))
                when = min(when, NOW - timedelta(days=1))
            order_no += 1
            code = rng.choice(["SAVE10", "SPRING15", "WELCOME5", "FLASH20"]) if rng.random() < discount_share else ""
            cats = ["gift-sets", "gift-cards", favourite] if profile == "gift" else [favourite, *sport]
            for line in range(1, rng.randint(*lines_per_order) + 1):
                cat = cats[0] if rng.random() < 0.6 else rng.choice(cats)
                item = rng.choice(by_cat[cat])
                price = float(str(item["price"])) * (0.85 if code else 1.0)
                qty = rng.choice([1, 1, 1, 2]) if profile != "vip" else rng.choice([1, 2, 3])
                lines.append(
                    {
                        "order_id": f"O{order_no:07d}",
                        "line": line,
                        "customer_id": customer["external_id"],
                        "ordered_at": when.isoformat(),
                        "status": "delivered" if days_ago > 10 else "shipped",
                        "currency": "USD",
                        "discount_code": code,
                        "sku": item["sku"],
                        "quantity": qty,
                        "unit_price": f"{price:.2f}",
                    }
                )
            if rng.random() < 0.03:  # a return of the first line, a week later
                first_line = next(x for x in lines if x["order_id"] == f"O{order_no:07d}")
                lines.append(
                    {
                        **first_line,
                        "order_id": f"R{order_no:07d}",
                        "line": 1,
                        "status": "returned",
                        "ordered_at": min(when + timedelta(days=7), NOW).isoformat(),
                        "quantity": -int(str(first_line["quantity"])),
                    }
                )
        yield customer, lines


def write_shop(out: Path, n_customers: int, n_products: int, seed: int = SEED, lines=(1, 3)) -> dict[str, int]:
    """Write products.csv, customers.csv and orders.csv under ``out``; return the row counts."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    catalog = products(rng, n_products)
    counts = {"products": len(catalog), "customers": 0, "order_lines": 0}
    with open(out / "products.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(catalog[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(catalog)
    with (
        open(out / "customers.csv", "w", newline="", encoding="utf-8") as cf,
        open(out / "orders.csv", "w", newline="", encoding="utf-8") as of,
    ):
        cw = csv.DictWriter(cf, fieldnames=CUSTOMER_COLUMNS, lineterminator="\n")
        ow = csv.DictWriter(of, fieldnames=ORDER_COLUMNS, lineterminator="\n")
        cw.writeheader()
        ow.writeheader()
        for customer, order_lines in customers_and_orders(rng, n_customers, catalog, lines):
            cw.writerow(customer)
            ow.writerows(order_lines)
            counts["customers"] += 1
            counts["order_lines"] += len(order_lines)
    return counts


def main() -> None:
    """Command-line entry: write the sample shop."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    print(write_shop(args.out, args.customers, args.products, args.seed))


if __name__ == "__main__":
    main()

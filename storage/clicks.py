"""Tracked links in storage: the delivery a link belongs to, the secret that signs the links when the shop gave
none, and whether a delivery's links went out tracked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from storage.models import Delivery, SystemState

SECRET_KEY = "tracked-links"  # the system_state row of the generated secret


@dataclass(frozen=True)
class LinkedDelivery:
    """What the redirect of one of a delivery's links needs: whose it is, and its text and buttons as written."""

    id: int
    campaign_id: int
    customer_id: int
    step: str
    channel: str
    text: str
    buttons: list[dict[str, Any]]
    links_tracked: bool | None


async def delivery(delivery_id: int) -> LinkedDelivery | None:
    """The delivery ``delivery_id`` (None: there is none, e.g. its customer was erased)."""
    rows = await Delivery.filter(id=delivery_id).values(
        "id", "campaign_id", "customer_id", "step", "channel", "text", "buttons", "links_tracked"
    )
    if not rows:
        return None
    row = rows[0]
    return LinkedDelivery(
        int(row["id"]), int(row["campaign_id"]), int(row["customer_id"]), str(row["step"]), str(row["channel"]),
        str(row["text"] or ""), list(row["buttons"] or []), row["links_tracked"],
    )  # fmt: skip


async def links_tracked(delivery_id: int) -> bool:
    """Whether the delivery's links went out as tracked redirects (False for a delivery that does not exist)."""
    return await Delivery.filter(id=delivery_id, links_tracked=True).exists()


async def generated_secret() -> str:
    """The secret that signs tracked links where the shop set no ``CHATCAST_LINK_SECRET``: made once, at random, and
    kept in the database, so that every process (``serve``, workers, ``campaign launch``) signs and reads alike."""
    for _ in range(2):
        row = await SystemState.get_or_none(key=SECRET_KEY)
        if row is not None and isinstance(row.value.get("secret"), str):
            return str(row.value["secret"])
        try:
            await SystemState.create(key=SECRET_KEY, value={"secret": secrets.token_urlsafe(32)})
        except IntegrityError:
            continue  # another process made it at the same moment: read theirs
    row = await SystemState.get(key=SECRET_KEY)
    return str(row.value["secret"])

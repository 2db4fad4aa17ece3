"""Complaints: opened by a strongly negative message, resolved by staff or by later positive feedback.

At most one complaint of a customer is open at a time (a second angry message while one is open adds nothing).
A resolution is recorded as a ``complaint_resolved`` event: what a customer said before it no longer counts
against them, and the event tells an incremental segments refresh that the customer's features changed. An explicit
one (``chatcast customer resolve``) is recorded even with no complaint open (staff clearing a run of bad words); a
side effect of ending any hand-off (staff's "done") only when one is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage import identities
from storage.models import Complaint, Customer, Event
from storage.sql import transaction

OPENED, RESOLVED = "complaint_opened", "complaint_resolved"
EXCERPT = 300  # characters of the customer's words kept on the complaint


@dataclass(frozen=True)
class OpenComplaint:
    """An open complaint as staff see it."""

    id: int
    customer_id: int
    external_id: str
    name: str
    opened_at: datetime
    source: str
    text: str


async def open_complaint(
    customer_id: int, *, at: datetime, source: str, text: str, feedback_id: int | None = None
) -> Complaint | None:
    """Open a complaint for the customer, unless one is open already; the new complaint, or None."""
    async with transaction() as conn:
        # the customer's row is the lock: two angry messages at once open one complaint (on PostgreSQL the second
        # waits here until the first commits; SQLite runs one transaction at a time). A model query, not
        # values_list(), which would drop the FOR UPDATE
        await Customer.filter(id=customer_id).select_for_update().using_db(conn).first()
        if await Complaint.filter(customer_id=customer_id, resolved_at__isnull=True).using_db(conn).exists():
            return None
        complaint = await Complaint.create(
            customer_id=customer_id, opened_at=at, source=source, text=text.replace("\x00", "\ufffd")[:EXCERPT],
            feedback_id=feedback_id, using_db=conn,
        )  # fmt: skip
        await Event.create(type=OPENED, at=at, customer_id=customer_id,
                           data={"complaint": complaint.id, "source": source}, using_db=conn)  # fmt: skip
    return complaint


async def has_open(customer_id: int) -> bool:
    """Whether the customer has an open complaint."""
    return await Complaint.filter(customer_id=customer_id, resolved_at__isnull=True).exists()


async def open_since(customer_id: int) -> datetime | None:
    """When the customer's open complaint was opened; None when none is open."""
    found = await Complaint.filter(customer_id=customer_id, resolved_at__isnull=True).order_by("opened_at").first()
    return found.opened_at if found else None


async def resolve(customer_id: int, *, at: datetime, how: str, only_open: bool = False) -> int:
    """Resolve the customer's open complaints (``how``: staff, cli, dashboard, positive_feedback) and clear what
    they said before ``at``; how many complaints were open. ``only_open``: with none open, record nothing (what they
    said still counts)."""
    closed = await Complaint.filter(customer_id=customer_id, resolved_at__isnull=True).update(
        resolved_at=at, resolution=how
    )
    if only_open and not closed:
        return 0
    await identities.add_event(RESOLVED, at=at, customer_id=customer_id, data={"how": how, "complaints": closed})
    return int(closed)


async def open_list(limit: int = 200) -> list[OpenComplaint]:
    """Open complaints, oldest first (what staff should look at)."""
    rows = (
        await Complaint.filter(resolved_at__isnull=True)
        .order_by("opened_at", "id")
        .limit(limit)
        .select_related("customer")
    )
    return [
        OpenComplaint(r.id, r.customer_id, r.customer.external_id, r.customer.name, r.opened_at, r.source, r.text)
        for r in rows
    ]

"""Complaints in storage, on both databases: at most one open per customer, even when two open at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from storage import complaints
from storage.models import Complaint, Customer, Event

AT = datetime(2027, 3, 10, 12, tzinfo=UTC)


async def test_complaints_opened_at_once_open_one(database: str) -> None:
    ann = await Customer.create(external_id="C1", name="Ann")
    bob = await Customer.create(external_id="C2", name="Bob")
    opened = await asyncio.gather(
        *(complaints.open_complaint(ann.id, at=AT, source="message", text=f"angry {n}") for n in range(6)),
        complaints.open_complaint(bob.id, at=AT, source="message", text="angry too"),  # another customer: not held
    )
    assert sum(c is not None for c in opened[:6]) == 1 and opened[6] is not None
    assert await Complaint.filter(customer_id=ann.id, resolved_at__isnull=True).count() == 1
    assert await Event.filter(type="complaint_opened", customer_id=ann.id).count() == 1
    # resolved, the next angry message opens a new one
    assert await complaints.resolve(ann.id, at=AT, how="staff", only_open=True) == 1
    assert await complaints.open_complaint(ann.id, at=AT, source="message", text="again") is not None

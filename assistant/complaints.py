"""When a customer's words open or resolve a complaint.

A message scoring :data:`NEGATIVE` or lower opens one (the same mark hands the chat to a person); later feedback
that is positive (an answer about an order or a campaign, not any friendly word in a chat) resolves it. Staff
resolve one by writing "done" in the hand-off thread, with ``chatcast customer resolve``, or on the dashboard.
"""

from __future__ import annotations

from datetime import datetime

from assistant.sentiment import label
from storage import complaints
from storage.models import Feedback

NEGATIVE = -0.6  # a message at least this negative opens a complaint and asks for a person


async def note(customer_id: int, text: str, score: float, feedback: Feedback | None, now: datetime) -> None:
    """Open a complaint for a strongly negative message; resolve the open one on positive feedback."""
    if score <= NEGATIVE:
        source = "feedback" if feedback is not None else "message"
        feedback_id = feedback.id if feedback is not None else None
        await complaints.open_complaint(customer_id, at=now, source=source, text=text, feedback_id=feedback_id)
    elif feedback is not None and label(score) == "positive" and await complaints.has_open(customer_id):
        await complaints.resolve(customer_id, at=now, how="positive_feedback")

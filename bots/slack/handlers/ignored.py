"""Everything else Slack may send the app: acknowledged and dropped, so Slack does not retry it.

Registered last: bolt runs the first listener that matches, and answers 404 (which Slack retries) when none does.
"""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncAck, AsyncApp

ANY = re.compile(r".*")


async def _acknowledge(ack: AsyncAck) -> None:
    await ack()


async def _nothing() -> None:
    return None


def register(app: AsyncApp) -> None:
    """Catch-all listeners for events, actions (dialogs too), shortcuts, views and options (dialog suggestions too)."""
    app.event(ANY)(_nothing)  # events are acknowledged by bolt itself
    app.action(ANY)(_acknowledge)  # block actions, attachment actions, dialog submissions and cancellations
    app.shortcut(ANY)(_acknowledge)
    app.view(ANY)(_acknowledge)  # view submissions
    app.view_closed(ANY)(_acknowledge)
    app.options(ANY)(_acknowledge)

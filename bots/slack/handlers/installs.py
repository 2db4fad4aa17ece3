"""The app leaves a workspace: ``app_uninstalled``, and ``tokens_revoked`` for its bot token. The workspace is
marked inactive at once (nothing is sent there; its rows are skipped as they fall due), and nobody's consent
changes: an uninstall is the workspace's doing, not its people's. A reinstall through OAuth makes it active again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bots.slack.handlers.common import team_of
from bots.slack.installations import DatabaseInstallationStore

log = logging.getLogger(__name__)


def register(app: AsyncApp, installations: DatabaseInstallationStore) -> None:
    """Listen for the two events (bolt acknowledges them, and asks for no token: the workspace's is gone)."""

    async def mark(body: dict[str, Any], context: dict[str, Any], reason: str) -> None:
        team_id = team_of(body, context) or None
        if await installations.deactivate(context.get("enterprise_id"), team_id, reason):
            log.warning("Slack workspace %s no longer has the app (%s): nothing is sent there", team_id, reason)

    async def uninstalled(body: dict[str, Any], context: dict[str, Any]) -> None:
        await mark(body, context, "app_uninstalled")

    async def revoked(event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):  # a user's own token is not what the app sends with
            await mark(body, context, "tokens_revoked")

    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)

"""Per-workspace credentials of chat platforms (Slack's OAuth installations), kept as the platform gave them."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from storage.models import Installation


class InstallationStore:
    """The database side of :class:`campaigns.ports.WorkspaceStore`: one row per channel and workspace."""

    async def save(self, channel: str, workspace: str, data: dict[str, Any]) -> None:
        """Keep ``data`` for the workspace, replacing what was there (a reinstall brings new tokens)."""
        updated = await Installation.filter(channel=channel, workspace=workspace).update(data=data)
        if updated:
            return
        try:
            await Installation.create(channel=channel, workspace=workspace, data=data)
        except IntegrityError:  # installed twice at once: the later data wins
            await Installation.filter(channel=channel, workspace=workspace).update(data=data)

    async def load(self, channel: str, workspace: str) -> dict[str, Any] | None:
        """The workspace's data, or None where the app is not installed."""
        row = await Installation.get_or_none(channel=channel, workspace=workspace)
        return dict(row.data) if row else None

    async def delete(self, channel: str, workspace: str) -> None:
        """Forget the workspace (the app was uninstalled or its tokens revoked)."""
        await Installation.filter(channel=channel, workspace=workspace).delete()

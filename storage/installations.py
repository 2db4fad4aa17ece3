"""Per-workspace credentials of chat platforms (Slack's OAuth installations), kept as the platform gave them, and
whether the app is still installed there.

A workspace that uninstalled the app (or whose token the platform refuses) is kept, marked inactive: its chats'
rows are skipped when they fall due (:data:`PARKED`), nobody's consent changes, and a reinstall makes it active
again. With one bot token and no OAuth there is no installation to keep, yet the mark is made all the same: a row
with no data and only the mark.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from storage.models import Installation

PARKED = "workspace_uninstalled"  # the note of a row skipped because its workspace no longer has the app


class InstallationStore:
    """The database side of :class:`campaigns.ports.WorkspaceStore`: one row per channel and workspace."""

    async def save(self, channel: str, workspace: str, data: dict[str, Any]) -> None:
        """Keep ``data`` for the workspace, replacing what was there (a reinstall brings new tokens): active."""
        active = {"data": data, "active": True, "inactive_since": None, "inactive_reason": None}
        updated = await Installation.filter(channel=channel, workspace=workspace).update(**active)
        if updated:
            return
        try:
            await Installation.create(channel=channel, workspace=workspace, data=data)
        except IntegrityError:  # installed twice at once: the later data wins
            await Installation.filter(channel=channel, workspace=workspace).update(**active)

    async def load(self, channel: str, workspace: str) -> dict[str, Any] | None:
        """The workspace's data, or None where the app is not installed (or no longer: inactive)."""
        row = await Installation.get_or_none(channel=channel, workspace=workspace, active=True)
        return dict(row.data) if row and row.data else None

    async def delete(self, channel: str, workspace: str) -> None:
        """Forget the workspace altogether."""
        await Installation.filter(channel=channel, workspace=workspace).delete()

    async def deactivate(self, channel: str, workspace: str, *, scope: str, reason: str, at: datetime) -> bool:
        """The app is no longer installed in the workspace: keep it, inactive since ``at`` for ``reason``, its chats
        (addresses starting with ``scope``) parked; False if it was inactive already (the first reason stays)."""
        return await deactivate(channel, workspace, scope=scope, reason=reason, at=at)

    async def activate(self, channel: str, workspace: str) -> bool:
        """The app works in the workspace again; False if it was not inactive."""
        unmarked = {"active": True, "inactive_since": None, "inactive_reason": None}
        return bool(await Installation.filter(channel=channel, workspace=workspace, active=False).update(**unmarked))

    async def inactive(self, channel: str, workspace: str) -> str | None:
        """Why the app is no longer installed in the workspace; None where it is, or was never installed."""
        row = await Installation.get_or_none(channel=channel, workspace=workspace, active=False)
        return (row.inactive_reason or "uninstalled") if row else None

    async def inactive_workspaces(self, channel: str) -> list[str]:
        """The channel's workspaces that no longer have the app."""
        return [workspace for workspace, _, _ in await inactive_workspaces(channel)]


async def deactivate(channel: str, workspace: str, *, scope: str, reason: str, at: datetime) -> bool:
    """Mark the workspace inactive (a row with only the mark where none was kept: one bot token, no OAuth); False
    if it was inactive already."""
    mark: dict[str, Any] = {"active": False, "inactive_since": at, "inactive_reason": reason[:64], "scope": scope}
    if await Installation.filter(channel=channel, workspace=workspace, active=True).update(**mark):
        return True
    if await Installation.filter(channel=channel, workspace=workspace).exists():
        return False
    try:
        await Installation.create(channel=channel, workspace=workspace, data={}, **mark)
    except IntegrityError:  # marked at the same moment by another worker
        return False
    return True


async def inactive_workspaces(channel: str) -> list[tuple[str, str, datetime | None]]:
    """The channel's workspaces that no longer have the app: (workspace, reason, since), oldest first."""
    rows = await Installation.filter(channel=channel, active=False).order_by("inactive_since", "id")
    return [(r.workspace, r.inactive_reason or "uninstalled", r.inactive_since) for r in rows]

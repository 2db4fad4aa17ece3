"""slack_sdk's installation store on the engine's ``WorkspaceStore``: bot tokens per workspace, in our database.

One deployment serves many workspaces: the OAuth flow saves each installation here, bolt's authorization
finds the workspace's bot token here for every incoming request, and the channel finds it here to send. A
workspace that uninstalls the app is kept, inactive (no token is found for it), until it installs it again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bots.slack import NAME
from campaigns.ports import WorkspaceStore

CHANNEL = NAME
_log = logging.getLogger(__name__)


def workspace_key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False) -> str:
    """The key of a workspace: ``E:T`` (an org-wide install is keyed by its enterprise alone, ``E:``)."""
    if is_enterprise_install:
        team_id = None
    return f"{enterprise_id or ''}:{team_id or ''}"


def scope(team_id: str) -> str:
    """The address prefix of a workspace's chats (``T123:``): how the engine finds the workspace's rows."""
    return f"{team_id}:"


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe: datetimes as Unix seconds (whole seconds for expiry times, as slack_sdk reads them)."""
    plain: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            value = int(value.timestamp()) if key.endswith("expires_at") else value.timestamp()
        plain[key] = value
    return plain


class DatabaseInstallationStore(AsyncInstallationStore):
    """Installations kept through a :class:`~campaigns.ports.WorkspaceStore` (the latest one per workspace)."""

    def __init__(self, store: WorkspaceStore) -> None:
        self._store = store

    @property
    def logger(self) -> logging.Logger:
        """The logger slack_sdk expects a store to have."""
        return _log

    async def async_save(self, installation: Installation) -> None:
        """Keep the workspace's installation (a reinstall replaces it, bringing new tokens and scopes)."""
        key = workspace_key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        await self._store.save(CHANNEL, key, _plain(installation.to_dict_for_copying()))

    async def async_save_bot(self, bot: Bot) -> None:
        """Saved with its installation by :meth:`async_save`."""

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's installation; an org-wide one serves every team of its enterprise."""
        data = await self._store.load(CHANNEL, workspace_key(enterprise_id, team_id, is_enterprise_install))
        if data is None and enterprise_id and not is_enterprise_install:
            data = await self._store.load(CHANNEL, workspace_key(enterprise_id, None, True))
        if data is None:
            return None
        return Installation(**data)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        """The workspace's bot (its token), or None where the app is not installed."""
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return installation.to_bot() if installation and installation.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The workspace's bot token is gone (tokens_revoked): the workspace is inactive until reinstalled."""
        await self.deactivate(enterprise_id, team_id, "tokens_revoked")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """The app is gone from the workspace; a single user's revocation leaves the bot in place."""
        if user_id is None:
            await self.deactivate(enterprise_id, team_id, "app_uninstalled")

    async def deactivate(self, enterprise_id: str | None, team_id: str | None, reason: str) -> bool:
        """Mark the workspace inactive (kept, not forgotten: its customers stay, their rows are parked); False if it
        was already."""
        key = workspace_key(enterprise_id, team_id)
        return await self._store.deactivate(
            CHANNEL, key, scope=scope(team_id) if team_id else "", reason=reason, at=datetime.now(UTC)
        )

    async def async_inactive(self, team_id: str) -> str | None:
        """Why the app is no longer installed in the workspace; None where it is, or never was."""
        return await self._store.inactive(CHANNEL, workspace_key(None, team_id))

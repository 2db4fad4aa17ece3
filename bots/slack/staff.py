"""The staff channel: alerts and hand-offs from the engine and the assistant, posted to a Slack channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.channel import post_to_channel
from bots.slack.errors import channel_error
from campaigns.ports import Button, ChannelError


class SlackStaffAlerts:
    """:class:`~campaigns.ports.StaffAlerts` on one Slack channel of one workspace."""

    def __init__(self, clients: Callable[[str], Awaitable[AsyncWebClient]], team_id: str, channel_id: str) -> None:
        self._clients, self.team_id, self.channel_id = clients, team_id, channel_id

    @classmethod
    def from_setting(cls, setting: str, clients: Callable[[str], Awaitable[AsyncWebClient]]) -> SlackStaffAlerts:
        """From ``C123`` (the bot token's workspace) or ``T123:C123`` (a workspace of many)."""
        team_id, _, channel_id = setting.rpartition(":")
        if not channel_id:
            raise ValueError(f"the staff channel {setting!r} is not a channel id (C..., or T...:C...)")
        return cls(clients, team_id, channel_id)

    async def alert(self, text: str, *, link: str | None = None) -> None:
        """Post ``text`` to the staff channel; a failure is a :class:`~campaigns.ports.ChannelError`."""
        buttons = (Button(text="Open", url=link),) if link else ()
        try:
            client = await self._clients(self.team_id)
            await post_to_channel(client, self.channel_id, text, buttons)
        except ChannelError:
            raise
        except Exception as exc:
            raise channel_error(exc) from exc

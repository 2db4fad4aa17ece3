"""The staff channel: alerts and hand-offs from the engine and the assistant, posted to a Slack channel.

An alert starts a thread; its reference is ``TEAM:CHANNEL:TS``. What a person writes in that thread comes back
to the engine as a ``staff`` event (see :mod:`bots.slack.handlers.messages`).
"""

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

    async def alert(self, text: str, *, link: str | None = None) -> str:
        """Post ``text`` to the staff channel; the reference of its thread. A failure is a ``ChannelError``."""
        buttons = (Button(text="Open the conversation", url=link),) if link else ()
        message_id = await self._post(text, buttons, None)
        return f"{self.team_id}:{message_id}"

    async def post(self, thread: str, text: str) -> None:
        """Add ``text`` to the thread ``thread`` (``TEAM:CHANNEL:TS``) of an alert."""
        _team, _, rest = thread.partition(":")
        channel_id, _, ts = rest.partition(":")
        await self._post(text, (), ts or None, channel_id or self.channel_id)

    def is_staff_channel(self, team_id: str, channel_id: str) -> bool:
        """Whether a message was written in the staff channel."""
        return channel_id == self.channel_id and (not self.team_id or team_id == self.team_id)

    async def _post(
        self, text: str, buttons: tuple[Button, ...], thread_ts: str | None, channel_id: str | None = None
    ) -> str:
        try:
            client = await self._clients(self.team_id)
            return await post_to_channel(client, channel_id or self.channel_id, text, buttons, thread_ts=thread_ts)
        except ChannelError:
            raise
        except Exception as exc:
            raise channel_error(exc) from exc

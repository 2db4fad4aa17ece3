"""Slack's settings: read from ``CHATCAST_SLACK_*`` as part of the root's settings (a mixin of
:class:`chatcast.settings.Settings`, through :data:`bots.registry.ChannelSettings`)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from bots.slack.limits import CHAT_RATE


class SlackSettings(BaseModel):
    """The app's tokens and signing secret (one workspace, or many by OAuth), its command, the staff channel and
    the send rate per conversation."""

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = Field(default=None, description="xapp- token: Socket Mode instead of HTTP.")
    slack_client_id: str | None = Field(default=None, description="OAuth: install in many workspaces.")
    slack_client_secret: SecretStr | None = None
    slack_redirect_uri: str | None = Field(default=None, description="OAuth redirect URL, .../slack/oauth_redirect.")
    slack_api_url: str | None = Field(default=None, description="Web API base URL; default: Slack's.")
    slack_command: str = Field(default="/shop", pattern=r"^/[a-z0-9_-]{1,31}$", description="The slash command.")
    slack_staff_channel: str | None = Field(
        default=None, description="Channel for alerts and hand-offs: C123, or T123:C123 with OAuth."
    )
    slack_channel_rate_per_second: float = Field(default=CHAT_RATE, gt=0)

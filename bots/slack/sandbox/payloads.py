"""What Slack sends the app when a user acts, shaped like Slack's sample payloads.

Events API ``event_callback`` bodies (``app_home_opened``, a ``message`` in the app's DM), slash command forms
and ``block_actions`` interactivity payloads.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

from bots.slack.sandbox.shapes import message_object
from bots.slack.sandbox.workspace import SlackMessage, Team, User, Workspace, slack_id


class Payloads:
    """Builds the payloads of the users the sandbox plays, from the state of its workspaces."""

    def __init__(self, workspace: Workspace, verification_token: str, origin: Callable[[], str]) -> None:
        self.workspace, self.verification_token, self.origin = workspace, verification_token, origin
        self._responses = 0

    def member(self, team_id: str, user_id: str) -> tuple[Team, User]:
        """The team and the user (a user the sandbox has not met yet joins the team)."""
        team = self.workspace.team(team_id)
        user = self.workspace.users.setdefault((team_id, user_id), User(user_id, team_id, user_id.lower(), user_id))
        if user.is_bot:
            raise ValueError(f"{user_id} is a bot user; the sandbox plays people")
        return team, user

    def trigger_id(self) -> str:
        """A trigger_id, good for opening a modal."""
        return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"

    def response_url(self, team_id: str, user_id: str, channel: str) -> str:
        """A response_url that points back at the sandbox, for answering the user in the channel."""
        self._responses += 1
        self.workspace.responders[f"{team_id}/{self._responses}"] = (team_id, user_id, channel)
        return f"{self.origin()}/commands/{team_id}/{self._responses}/{secrets.token_hex(8)}"

    def event_callback(self, team: Team, event: dict[str, Any]) -> dict[str, Any]:
        """The Events API envelope of one event, authorized for the team's bot."""
        now = int(self.workspace.now())
        authorization = {
            "enterprise_id": None,
            "team_id": team.id,
            "user_id": team.bot_user_id,
            "is_bot": True,
            "is_enterprise_install": False,
        }
        return {
            "token": self.verification_token,
            "team_id": team.id,
            "enterprise_id": None,
            "api_app_id": self.workspace.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": slack_id("Ev", team.id, str(now), secrets.token_hex(4)),
            "event_time": now,
            "authorizations": [authorization],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
        }

    def app_home_opened(self, team_id: str, user_id: str) -> dict[str, Any]:
        """The user opens the app's Home tab (the event carries the view published for them, if any)."""
        team, user = self.member(team_id, user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user.id,
            "channel": self.workspace.dm(team.id, user.id),
            "tab": "home",
            "event_ts": self.workspace.stamp(),
        }
        if (view := self.workspace.views.get((team.id, user.id))) is not None:
            event["view"] = view
        return self.event_callback(team, event)

    def message(self, team_id: str, user_id: str, text: str) -> dict[str, Any]:
        """The user writes in the app's DM: the message joins the transcript; returns the event_callback."""
        team, user = self.member(team_id, user_id)
        channel = self.workspace.dm(team.id, user.id)
        message = self.workspace.post(SlackMessage(channel, self.workspace.stamp(), text, [], team.id, user.id, False))
        rich_text = {"type": "rich_text", "elements": [{"type": "text", "text": text}]}
        section = {"type": "rich_text_section", "elements": rich_text["elements"]}
        blocks = [{"type": "rich_text", "block_id": slack_id("", message.ts)[:5], "elements": [section]}]
        event = {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": text,
            "user": user.id,
            "ts": message.ts,
            "blocks": blocks,
            "team": team.id,
            "channel": channel,
            "event_ts": message.ts,
            "channel_type": "im",
        }
        return self.event_callback(team, event)

    def thread_reply(self, team_id: str, user_id: str, channel: str, thread_ts: str, text: str) -> dict[str, Any]:
        """A member writes in a thread of a public channel: the message joins the transcript; the event_callback."""
        team, user = self.member(team_id, user_id)
        message = self.workspace.post(
            SlackMessage(channel, self.workspace.stamp(), text, [], team.id, user.id, False, thread_ts=thread_ts)
        )
        event = {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": text,
            "user": user.id,
            "ts": message.ts,
            "thread_ts": thread_ts,
            "team": team.id,
            "channel": channel,
            "event_ts": message.ts,
            "channel_type": "channel",
        }
        return self.event_callback(team, event)

    def uninstalled(self, team_id: str) -> list[dict[str, Any]]:
        """The events of an uninstall: ``tokens_revoked`` (the bot's token) and ``app_uninstalled``."""
        team = self.workspace.team(team_id)
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [team.bot_user_id]}}
        return [self.event_callback(team, revoked), self.event_callback(team, {"type": "app_uninstalled"})]

    def slash_command(self, team_id: str, user_id: str, command: str, text: str) -> dict[str, str]:
        """The user runs a slash command in the app's DM: the form fields Slack posts."""
        team, user = self.member(team_id, user_id)
        return {
            "token": self.verification_token,
            "team_id": team.id,
            "team_domain": team.domain,
            "channel_id": self.workspace.dm(team.id, user.id),
            "channel_name": "directmessage",
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": self.workspace.app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url(team.id, user.id, self.workspace.dm(team.id, user.id)),
            "trigger_id": self.trigger_id(),
        }

    def block_actions(
        self, team_id: str, user_id: str, message: SlackMessage | None, action_id: str, value: str | None, view: Any
    ) -> dict[str, Any]:
        """The user presses a button of a message in their DM, or of a view (App Home): the interactivity payload."""
        team, user = self.member(team_id, user_id)
        if view is not None:
            blocks, api_view = view.get("blocks") or [], view
        elif message is not None:
            if message.user_id not in (None, user.id):
                raise LookupError(f"message {message.ts} is in another user's DM")
            blocks, api_view = message.blocks, None
        else:
            raise ValueError("press needs the message or the view the button is on")
        found = _button(blocks, action_id, value)
        if found is None:
            raise LookupError(f"no button {action_id!r}" + (f" with value {value!r}" if value is not None else ""))
        index, button = found
        block = blocks[index]
        where = message.ts if message else str(api_view.get("id", "home"))  # a view a test built has no id
        block_id = block.get("block_id") or slack_id("", where, str(index))[:5]
        action = {
            "action_id": action_id,
            "block_id": block_id,
            "text": button.get("text"),
            "type": "button",
            "action_ts": self.workspace.stamp(),
        }
        action |= {key: button[key] for key in ("value", "style", "url") if key in button}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": team.id},
            "api_app_id": self.workspace.app_id,
            "token": self.verification_token,
            "trigger_id": self.trigger_id(),
            "team": {"id": team.id, "domain": team.domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [action],
        }
        if api_view is not None:
            return payload | {"container": {"type": "view", "view_id": api_view.get("id", "")}, "view": api_view}
        assert message is not None
        container = {"type": "message", "message_ts": message.ts, "channel_id": message.channel, "is_ephemeral": False}
        return payload | {
            "container": container,
            "channel": {"id": message.channel, "name": "directmessage"},
            "message": message_object(self.workspace, message),
            "response_url": self.response_url(team.id, user.id, message.channel),
        }


def _button(blocks: list[Any], action_id: str, value: str | None) -> tuple[int, dict[str, Any]] | None:
    """The first button with this action_id (and value, when given), and the index of its block."""
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            continue
        elements = block.get("elements") if block.get("type") == "actions" else [block.get("accessory")]
        for element in elements or []:
            if (
                isinstance(element, dict)
                and element.get("type") == "button"
                and element.get("action_id") == action_id
                and (value is None or element.get("value") == value)
            ):
                return index, element
    return None

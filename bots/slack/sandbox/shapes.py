"""Messages, bot profiles and users as the Web API and the payloads show them, in the shapes of Slack's samples."""

from __future__ import annotations

from typing import Any

from bots.slack.sandbox.workspace import SlackMessage, Team, User, Workspace, slack_id


def bot_profile(workspace: Workspace, team: Team) -> dict[str, Any]:
    """The bot_profile object of the team's bot, as messages carry it."""
    icons = {f"image_{size}": f"https://a.slack-edge.com/sandbox/bot_{size}.png" for size in (36, 48, 72)}
    return {
        "id": team.bot_id,
        "deleted": False,
        "name": "Chatcast",
        "updated": int(workspace.now()),
        "app_id": workspace.app_id,
        "icons": icons,
        "team_id": team.id,
    }


def message_object(workspace: Workspace, message: SlackMessage, *, metadata: bool = True) -> dict[str, Any]:
    """A message as chat.postMessage answers it and interactivity payloads carry it (blocks get a block_id); its
    metadata unless ``metadata`` is False (conversations.history shows it only when asked to)."""
    team = workspace.teams[message.team_id]
    api: dict[str, Any] = {"type": "message", "text": message.text, "ts": message.ts, "team": team.id}
    if message.from_bot:
        api |= {"user": team.bot_user_id, "bot_id": team.bot_id, "app_id": workspace.app_id}
        api["bot_profile"] = bot_profile(workspace, team)
    else:
        api["user"] = message.user_id
    if message.blocks:
        api["blocks"] = [
            {"block_id": slack_id("", message.ts, str(i))[:5]} | block if isinstance(block, dict) else block
            for i, block in enumerate(message.blocks)
        ]
    if metadata and message.metadata is not None:
        api["metadata"] = message.metadata
    return api | ({"thread_ts": message.thread_ts} if message.thread_ts else {})


def user_object(user: User, workspace: Workspace, *, locale: bool = False) -> dict[str, Any]:
    """A user object as users.info and users.lookupByEmail answer it."""
    first, _, last = user.real_name.partition(" ")
    image = {f"image_{size}": f"https://a.slack-edge.com/sandbox/{user.id}_{size}.png" for size in (24, 32, 48, 72)}
    profile: dict[str, Any] = {
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "first_name": first,
        "last_name": last,
        "status_text": "",
        "status_emoji": "",
        "avatar_hash": slack_id("g", user.id)[:12].lower(),
        "team": user.team_id,
        **image,
    }
    if user.email:
        profile["email"] = user.email
    if user.bot_id:
        profile |= {"bot_id": user.bot_id, "api_app_id": workspace.app_id, "always_active": True}
    api = {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": "Europe/Berlin",
        "tz_label": "Central European Time",
        "tz_offset": 3600,
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": int(workspace.now()),
        "is_email_confirmed": user.email is not None,
    }
    return api | ({"locale": "en-US"} if locale else {})

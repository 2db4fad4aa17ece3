"""The Web API methods the sandbox carries out, answering in the shapes of Slack's own samples."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from bots.slack.sandbox.api_spec import parse_metadata, parse_view
from bots.slack.sandbox.blocks import parse_blocks
from bots.slack.sandbox.shapes import message_object, user_object
from bots.slack.sandbox.workspace import SlackError, SlackMessage, Team, Workspace, slack_id

SCOPES = "chat:write,commands,im:history,im:read,im:write,users:read,users:read.email"
Handler = Callable[[Team | None, dict[str, Any]], Awaitable[dict[str, Any]]]


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _ts(value: Any, error: str) -> Decimal | None:
    """A ``ts`` bound (``1712345678.000100``, a number); None when absent; ``error`` when it is not one."""
    if value in (None, ""):
        return None
    try:
        moment = Decimal(str(value))
    except InvalidOperation:
        raise SlackError(error) from None
    if not moment.is_finite() or moment < 0:
        raise SlackError(error)
    return moment


def _cursor(value: Any) -> Decimal | None:
    """The ``ts`` a page cursor starts at (Slack's cursors are base64 of ``next_ts:<ts>``); ``invalid_cursor``."""
    if value in (None, ""):
        return None
    try:
        kind, _, ts = base64.b64decode(str(value), validate=True).decode().partition(":")
        if kind != "next_ts":
            raise ValueError(kind)
        return Decimal(ts)
    except (binascii.Error, UnicodeDecodeError, ValueError, InvalidOperation):
        raise SlackError("invalid_cursor") from None


class WebMethods:
    """``call(method, team, params)``: the answer's fields beyond ``ok``, or a SlackError."""

    def __init__(
        self, workspace: Workspace, socket_url: Callable[[], str], client: Callable[[], tuple[str | None, str | None]]
    ) -> None:
        self.workspace, self.socket_url, self.client = workspace, socket_url, client
        self.oauth_codes: dict[str, tuple[str, str]] = {}  # code -> (team id, installing user id)
        self.handlers: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "apps.connections.open": self.connections_open,
            "chat.postMessage": self.post_message,
            "chat.postEphemeral": self.post_ephemeral,
            "chat.update": self.update,
            "conversations.history": self.conversations_history,
            "conversations.open": self.conversations_open,
            "users.info": self.users_info,
            "users.lookupByEmail": self.lookup_by_email,
            "views.publish": self.views_publish,
            "oauth.v2.access": self.oauth_access,
        }

    async def call(self, method: str, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """Carry out a method; any other method of the spec just answers ``ok``."""
        handler = self.handlers.get(method)
        return await handler(team, params) if handler else {}

    @staticmethod
    def _team(team: Team | None) -> Team:
        if team is None:  # the sandbox only calls the team methods with a bot token
            raise SlackError("not_allowed_token_type")
        return team

    async def auth_test(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """auth.test: who the bot token belongs to."""
        team = self._team(team)
        return {
            "url": f"https://{team.domain}.slack.com/",
            "team": team.name,
            "user": "chatcast",
            "team_id": team.id,
            "user_id": team.bot_user_id,
            "bot_id": team.bot_id,
            "is_enterprise_install": False,
        }

    async def connections_open(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """apps.connections.open: a one-time Socket Mode URL (the app-level token was checked before)."""
        return {"url": self.socket_url()}

    def _message(self, team: Team, params: dict[str, Any], channel: str, user_id: str | None) -> SlackMessage:
        blocks, _ = parse_blocks(params["blocks"]) if params.get("blocks") not in (None, "") else ([], [])
        text, thread = params.get("text"), params.get("thread_ts")
        text, thread = text if isinstance(text, str) else "", thread if isinstance(thread, str) else None
        metadata = parse_metadata(params["metadata"])[0] if params.get("metadata") not in (None, "") else None
        return SlackMessage(
            channel, self.workspace.stamp(), text, blocks or [], team.id, user_id, thread_ts=thread, metadata=metadata
        )

    async def post_message(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """chat.postMessage: to a DM (its id, or the user's id), or to a public channel the sandbox knows."""
        team = self._team(team)
        channel, user_id = self.workspace.resolve(team.id, str(params.get("channel", "")))
        message = self.workspace.post(self._message(team, params, channel, user_id))
        return {"channel": channel, "ts": message.ts, "message": message_object(self.workspace, message)}

    async def post_ephemeral(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """chat.postEphemeral: seen by one user of the channel; kept apart from the transcripts."""
        team = self._team(team)
        channel, dm_user = self.workspace.resolve(team.id, str(params.get("channel", "")))
        user = self.workspace.user(team.id, str(params.get("user", "")))
        if dm_user is not None and dm_user != user.id:
            raise SlackError("user_not_in_channel")
        message = self._message(team, params, channel, user.id)
        self.workspace.ephemeral.append(message)
        return {"message_ts": message.ts}

    async def update(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """chat.update: replace the text and blocks of one of the bot's messages."""
        team = self._team(team)
        channel, _ = self.workspace.resolve(team.id, str(params.get("channel", "")))
        old = self.workspace.find(channel, str(params.get("ts", "")))
        if old is None:
            raise SlackError("message_not_found")
        if not old.from_bot:
            raise SlackError("cant_update_message")
        fresh = self._message(team, params, channel, old.user_id)
        new = replace(old, text=fresh.text, blocks=fresh.blocks, edited=True)
        self.workspace.replace(old, new)
        api = message_object(self.workspace, new)
        return {"channel": channel, "ts": new.ts, "text": new.text, "message": api}

    async def conversations_open(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.open: the bot's DM with one user (multi-person DMs are not simulated)."""
        team = self._team(team)
        if params.get("channel"):
            user_id = self.workspace.dm_user(team.id, str(params["channel"]))
            if user_id is None:
                raise SlackError("channel_not_found")
        else:
            users = [u.strip() for u in str(params.get("users", "")).split(",") if u.strip()]
            if not users:
                raise SlackError("users_list_not_supplied")
            if len(users) > 1:
                raise SlackError("not_supported", detail="the sandbox simulates 1:1 DMs only")
            user = self.workspace.user(team.id, users[0])
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            if user.deleted:
                raise SlackError("user_disabled")
            user_id = user.id
        already = (team.id, user_id) in self.workspace.dms
        channel: dict[str, Any] = {"id": self.workspace.dm(team.id, user_id)}
        if _flag(params.get("return_im")):
            channel |= {
                "created": int(self.workspace.now()),
                "is_im": True,
                "is_org_shared": False,
                "user": user_id,
                "last_read": "0000000000.000000",
                "latest": None,
                "unread_count": 0,
                "unread_count_display": 0,
                "is_open": True,
                "priority": 0,
            }
        return {"channel": channel} | ({"no_op": True, "already_open": True} if already else {})

    async def conversations_history(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: a DM's or a channel's messages, newest first, between ``oldest`` and ``latest``
        (exclusive unless ``inclusive``), ``limit`` a page (default 100, at most 999), paged by ``cursor``; thread
        replies are not in it, and metadata only with ``include_all_metadata``."""
        team = self._team(team)
        channel = str(params.get("channel") or "")
        if self.workspace.dm_user(team.id, channel) is None and (team.id, channel) not in self.workspace.channels:
            raise SlackError("channel_not_found")
        oldest, latest = _ts(params.get("oldest"), "invalid_ts_oldest"), _ts(params.get("latest"), "invalid_ts_latest")
        inclusive = _flag(params.get("inclusive"))
        try:
            limit = min(max(int(params.get("limit") or 100), 1), 999)
        except (TypeError, ValueError):
            raise SlackError("invalid_limit") from None
        before = _cursor(params.get("cursor"))

        def within(ts: Decimal) -> bool:
            after = oldest is None or ts > oldest or (inclusive and ts == oldest)
            until = latest is None or ts < latest or (inclusive and ts == latest)
            return after and until and (before is None or ts <= before)

        messages = [
            m
            for m in reversed(self.workspace.transcripts.get(channel, []))
            if (m.thread_ts in (None, m.ts)) and within(Decimal(m.ts))
        ]
        page, rest = messages[:limit], messages[limit:]
        answer: dict[str, Any] = {
            "messages": [
                message_object(self.workspace, m, metadata=_flag(params.get("include_all_metadata"))) for m in page
            ],
            "has_more": bool(rest),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }
        if rest:
            answer["response_metadata"] = {"next_cursor": base64.b64encode(f"next_ts:{rest[0].ts}".encode()).decode()}
        return answer

    async def users_info(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """users.info: a user of the token's team (deactivated ones answer with ``deleted: true``)."""
        user = self.workspace.user(self._team(team).id, str(params.get("user", "")))
        return {"user": user_object(user, self.workspace, locale=_flag(params.get("include_locale")))}

    async def lookup_by_email(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """users.lookupByEmail: Slack's error for no such address is ``users_not_found``."""
        team, email = self._team(team), str(params.get("email", "")).lower()
        found = [u for (t, _), u in self.workspace.users.items() if t == team.id and (u.email or "").lower() == email]
        if not found:
            raise SlackError("users_not_found")
        return {"user": user_object(found[0], self.workspace)}

    async def views_publish(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """views.publish: the App Home view of one user, kept per team and user."""
        team = self._team(team)
        user = self.workspace.user(team.id, str(params.get("user_id", "")))
        view, _ = parse_view(params.get("view"))
        view = view or {}
        key = (team.id, user.id)
        previous = self.workspace.views.get(key)
        if params.get("hash") and previous and params["hash"] != previous["hash"]:
            raise SlackError("hash_conflict")
        view_id = previous["id"] if previous else slack_id("V", team.id, user.id)
        published = {
            "id": view_id,
            "team_id": team.id,
            "type": "home",
            "blocks": view.get("blocks") or [],
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self.workspace.now())}.{secrets.token_hex(4)}",
            "title": view.get("title", {"type": "plain_text", "text": "View Title", "emoji": True}),
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.workspace.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": team.id,
            "bot_id": team.bot_id,
        }
        self.workspace.views[key] = published
        return {"view": published}

    def oauth_code(self, team_id: str, user_id: str) -> str:
        """A one-time code that oauth.v2.access exchanges for a fresh bot token of the team."""
        code = f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self.oauth_codes[code] = (team_id, user_id)
        return code

    async def oauth_access(self, team: Team | None, params: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: the client's id and secret (Basic auth or params; checked when the sandbox has
        them) and a one-time code: a v2 install answer."""
        client_id, client_secret = self.client()
        if not params.get("client_id") or params["client_id"] != (client_id or params["client_id"]):
            raise SlackError("invalid_client_id")
        if not params.get("client_secret") or params["client_secret"] != (client_secret or params["client_secret"]):
            raise SlackError("bad_client_secret")
        installed = self.oauth_codes.pop(str(params.get("code", "")), None)
        if installed is None:
            raise SlackError("invalid_code")
        team_id, user_id = installed
        installed_team = self.workspace.teams[team_id]
        token = self.workspace.add_team(team_id, installed_team.name, None)
        return {
            "app_id": self.workspace.app_id,
            "authed_user": {"id": user_id},
            "scope": SCOPES,
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": installed_team.bot_user_id,
            "team": {"id": team_id, "name": installed_team.name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

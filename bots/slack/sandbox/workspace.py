"""The sandbox's workspaces: teams and their tokens, users, channels, DMs, message transcripts and ``ts`` values."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bots.slack.sandbox.blocks import buttons
from bots.slack.sandbox.formatting import Span, message_spans


class SlackError(Exception):
    """A Slack-shaped error answer: HTTP 200 with ``ok: false``, or a 429 or 5xx."""

    def __init__(self, error: str, status: int = 200, *, retry_after: int | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after, self.extra = error, status, retry_after, extra

    def body(self) -> dict[str, Any]:
        """The JSON Slack answers with."""
        return {"ok": False, "error": self.error, **self.extra}

    def headers(self) -> dict[str, str]:
        """The headers of the answer: ``Retry-After`` on a 429."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


@dataclass(frozen=True)
class SlackMessage:
    """One message in a sandbox channel: posted by the bot, or typed by a user the sandbox plays."""

    channel: str
    ts: str
    text: str
    blocks: list[Any]
    team_id: str
    user_id: str | None = None  # in a DM: the user whose DM it is; for an ephemeral message: who sees it
    from_bot: bool = True
    thread_ts: str | None = None
    edited: bool = False
    metadata: dict[str, Any] | None = None  # what the app attached (``event_type``, ``event_payload``), if anything

    def buttons(self) -> list[dict[str, Any]]:
        """The message's button elements, in order."""
        return buttons(self.blocks)

    def formatting(self) -> list[Span]:
        """What a Slack client shows formatted in the message's mrkdwn texts (bold, italic, struck, code)."""
        return message_spans(self.blocks)


@dataclass
class Team:
    """A workspace the app is installed in."""

    id: str
    name: str
    bot_user_id: str
    bot_id: str

    @property
    def domain(self) -> str:
        """The workspace's subdomain, from its name."""
        return "".join(c for c in self.name.lower().replace(" ", "-") if c.isalnum() or c == "-") or self.id.lower()


@dataclass
class User:
    """A member of a workspace."""

    id: str
    team_id: str
    name: str
    real_name: str
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    bot_id: str | None = None


def slack_id(prefix: str, *parts: str) -> str:
    """A stable Slack-looking id (``D``, ``U``, ``B``, ``V``...) derived from its parts."""
    digest = hashlib.sha1(":".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:10]


@dataclass
class Workspace:
    """Teams, tokens, users, channels and the messages in them."""

    now: Callable[[], float]
    app_id: str
    teams: dict[str, Team] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # bot token -> team id
    revoked: dict[str, str] = field(default_factory=dict)  # bot token -> the error its calls answer
    users: dict[tuple[str, str], User] = field(default_factory=dict)
    channels: dict[tuple[str, str], str] = field(default_factory=dict)  # (team, public channel id) -> name
    dms: dict[tuple[str, str], str] = field(default_factory=dict)  # (team, user) -> DM channel id
    dm_owners: dict[tuple[str, str], str] = field(default_factory=dict)  # (team, DM channel id) -> user
    transcripts: dict[str, list[SlackMessage]] = field(default_factory=dict)
    ephemeral: list[SlackMessage] = field(default_factory=list)
    views: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    responders: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # response_url key -> team, user, channel
    _last_ts: int = 0

    def add_team(self, team_id: str, name: str, bot_token: str | None) -> str:
        """Install the app in a team (again): its bot user, and a bot token (a fresh one when None)."""
        bot_user_id, bot_id = slack_id("U", team_id, "bot"), slack_id("B", team_id, "bot")
        self.teams[team_id] = Team(team_id, name, bot_user_id, bot_id)
        bot = User(bot_user_id, team_id, "chatcast", "Chatcast", is_bot=True, bot_id=bot_id)
        self.users[(team_id, bot_user_id)] = bot
        token = bot_token or f"xoxb-{secrets.randbelow(10**12)}-{secrets.randbelow(10**12)}-{secrets.token_hex(12)}"
        self.tokens[token] = team_id
        return token

    def team(self, team_id: str) -> Team:
        """A team by id; KeyError names it when the sandbox has none."""
        if team_id not in self.teams:
            raise KeyError(f"no team {team_id!r}: add it with add_team")
        return self.teams[team_id]

    def add_user(self, user: User) -> None:
        """Add (or replace) a member of a team."""
        self.users[(self.team(user.team_id).id, user.id)] = user

    def user(self, team_id: str, user_id: str) -> User:
        """A user of a team; answers ``user_not_found`` when there is none."""
        user = self.users.get((team_id, user_id))
        if user is None:
            raise SlackError("user_not_found")
        return user

    def dm(self, team_id: str, user_id: str) -> str:
        """The DM channel id of the bot and a user: stable per team and user."""
        if (team_id, user_id) not in self.dms:
            self.dms[(team_id, user_id)] = channel = slack_id("D", team_id, user_id)
            self.dm_owners[(team_id, channel)] = user_id
        return self.dms[(team_id, user_id)]

    def dm_user(self, team_id: str, channel: str) -> str | None:
        """The user of a DM channel of the team, if it is one."""
        return self.dm_owners.get((team_id, channel))

    def resolve(self, team_id: str, channel: str) -> tuple[str, str | None]:
        """Where a message to ``channel`` goes: a DM (by its id or the user's), a public channel (id or name)."""
        if (user_id := self.dm_user(team_id, channel)) is not None:
            return channel, user_id
        if (team_id, channel) in self.channels:
            return channel, None
        by_name = [
            cid for (team, cid), name in self.channels.items() if team == team_id and name == channel.lstrip("#")
        ]
        if by_name:
            return by_name[0], None
        user = self.users.get((team_id, channel))
        if user is None:
            raise SlackError("channel_not_found")
        if user.is_bot:
            raise SlackError("cannot_dm_bot")
        # A deactivated user's DM is still there: Slack accepts the post (slack-sdk issue #1156, ok: true).
        return self.dm(team_id, user.id), user.id

    def stamp(self) -> str:
        """A fresh ``ts``: the wall clock in microseconds, strictly increasing."""
        self._last_ts = max(self._last_ts + 1, int(self.now() * 1_000_000))
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def post(self, message: SlackMessage) -> SlackMessage:
        """Append a message to its channel's transcript."""
        self.transcripts.setdefault(message.channel, []).append(message)
        return message

    def find(self, channel: str, ts: str) -> SlackMessage | None:
        """A message of a channel by its ts."""
        return next((m for m in self.transcripts.get(channel, []) if m.ts == ts), None)

    def replace(self, old: SlackMessage, new: SlackMessage) -> None:
        """Put an edited message in place of the old one."""
        messages = self.transcripts[old.channel]
        messages[messages.index(old)] = new

    def answer(self, team_id: str, user_id: str, channel: str, body: dict[str, Any]) -> SlackMessage | None:
        """What the app answered a user's slash command or press (in its ack, or at the response_url): seen by them
        alone (ephemeral), or by the channel (``in_channel``); None for an answer with nothing to show."""
        text = body.get("text") if isinstance(body.get("text"), str) else ""
        blocks = body.get("blocks") if isinstance(body.get("blocks"), list) else []
        if not text and not blocks:
            return None
        message = SlackMessage(channel, self.stamp(), str(text), list(blocks or []), team_id, user_id)
        if body.get("response_type") == "in_channel":
            return self.post(message)
        self.ephemeral.append(message)
        return message

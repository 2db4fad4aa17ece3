"""Request validation against the Slack Web API OpenAPI v2 spec, or against the implemented methods without one.

The spec (``slack_web_openapi_v2.json``) lists each method as a path with one operation whose parameters sit in
``header`` (the token), ``formData`` or ``query``; slack_sdk sends them as a form, a JSON body or a query string
alike, so the sandbox reads them all together. The v2 spec is older than a few methods and parameters that the
Web API has today: those are accepted as documented extras.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bots.slack.sandbox.blocks import VIEW_BLOCKS, Problem, check_blocks, check_text, parse_blocks

# (required, optional) parameters of the methods the sandbox carries out; the token is checked apart.
IMPLEMENTED: dict[str, tuple[str, str]] = {
    "auth.test": ("", ""),
    "apps.connections.open": ("", ""),
    "chat.postMessage": (
        "channel",
        "as_user attachments blocks icon_emoji icon_url link_names markdown_text metadata mrkdwn parse "
        "reply_broadcast text thread_ts unfurl_links unfurl_media username",
    ),
    "chat.postEphemeral": (
        "channel user",
        "as_user attachments blocks icon_emoji icon_url link_names markdown_text parse text thread_ts username",
    ),
    "chat.update": ("channel ts", "as_user attachments blocks file_ids link_names markdown_text metadata parse text"),
    "conversations.history": ("channel", "cursor include_all_metadata inclusive latest limit oldest"),
    "conversations.open": ("", "channel prevent_creation return_im users"),
    "users.info": ("user", "include_locale"),
    "users.lookupByEmail": ("email", ""),
    "views.publish": ("user_id view", "hash"),
    "oauth.v2.access": ("", "client_id client_secret code grant_type redirect_uri refresh_token"),
}
# Documented in today's Web API reference but missing from the v2 spec: methods, and parameters of known methods.
EXTRA_METHODS = frozenset({"apps.connections.open"})
EXTRA_PARAMS: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"markdown_text", "metadata"}),
    "chat.postEphemeral": frozenset({"markdown_text"}),
    "chat.update": frozenset({"file_ids", "markdown_text", "metadata", "reply_broadcast"}),
    "conversations.history": frozenset({"include_all_metadata"}),
    "conversations.open": frozenset({"prevent_creation"}),
    "oauth.v2.access": frozenset({"grant_type", "refresh_token"}),
}
# Every token-bearing method takes team_id (org-wide apps name the workspace; slack_sdk sends it when its client
# was made for one team, as bolt's per-request clients are).
EVERY_METHOD = frozenset({"team_id"})
UNAUTHENTICATED = frozenset({"oauth.v2.access", "oauth.access", "oauth.token", "oauth.v2.exchange"})
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_]+")
_MESSAGES = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"})


class Method:
    """What validation needs to know of one method: its required and optional parameters, and its token."""

    def __init__(self, name: str, required: set[str], optional: set[str], token: bool) -> None:
        self.name, self.required, self.optional, self.token = name, frozenset(required), frozenset(optional), token

    @property
    def known(self) -> frozenset[str]:
        """Every parameter the method takes (the token aside)."""
        return self.required | self.optional | (EVERY_METHOD if self.token else frozenset())


class SlackSpec:
    """The methods the sandbox accepts (the spec's, else only those it implements) and the checks of a call."""

    def __init__(self, path: Path | None = None) -> None:
        self.methods: dict[str, Method] = {}
        if path is not None:
            spec = json.loads(path.read_text(encoding="utf-8"))
            for route, operations in spec["paths"].items():
                operation = next(iter(operations.values()))
                params = [p for p in operation.get("parameters", []) if p.get("in") in ("header", "formData", "query")]
                names = {p["name"]: bool(p.get("required")) for p in params}
                token = names.pop("token", None) is not None
                required = {name for name, needed in names.items() if needed}
                name = route.lstrip("/")
                optional = (set(names) - required) | EXTRA_PARAMS.get(name, frozenset())
                self.methods[name] = Method(name, required, optional, token)
        for name, (needs, takes) in IMPLEMENTED.items():
            if path is None or name in EXTRA_METHODS:
                self.methods[name] = Method(name, set(needs.split()), set(takes.split()), name not in UNAUTHENTICATED)

    def method(self, name: str) -> Method | None:
        """The method of that name (Slack's names are case-sensitive), or None."""
        return self.methods.get(name)

    def check(self, method: Method, params: dict[str, Any]) -> list[Problem]:
        """Every problem in a call's params: missing and unknown parameters, then the content's limits."""
        problems = [
            Problem("invalid_arguments", f"missing required parameter '{name}'")
            for name in sorted(method.required)
            if params.get(name) in (None, "")
        ]
        problems += [
            Problem("invalid_arguments", f"unknown parameter '{name}'") for name in params if name not in method.known
        ]
        return problems + content_problems(method.name, params)


def content_problems(method: str, params: dict[str, Any]) -> list[Problem]:
    """The checks of what a message or a view carries: text length, Block Kit."""
    problems: list[Problem] = []
    if method in _MESSAGES:
        problems += check_text(params, needs_content=True)
        if params.get("metadata") not in (None, ""):
            problems += parse_metadata(params["metadata"])[1]
        if params.get("blocks") not in (None, ""):
            blocks, problems_ = parse_blocks(params["blocks"])
            problems += problems_ or check_blocks(blocks or [])
    if method == "views.publish" and "view" in params:
        view, problems_ = parse_view(params["view"])
        problems += problems_
        if view is not None:
            problems += check_blocks(view.get("blocks") or [], limit=VIEW_BLOCKS, at="/view/blocks")
    return problems


def parse_view(value: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """A view (a JSON string or an object) for App Home: its type must be "home" and it must carry blocks."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None, [Problem("invalid_arguments", "view is not valid JSON")]
    if not isinstance(value, dict):
        return None, [Problem("invalid_arguments", "view must be an object")]
    problems = []
    if value.get("type") != "home":
        problems.append(Problem("invalid_arguments", 'view.type must be "home" for views.publish'))
    if not isinstance(value.get("blocks"), list):
        problems.append(Problem("invalid_arguments", "view.blocks must be an array"))
    return value, problems


def parse_metadata(value: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """A message's metadata (a JSON string or an object): an ``event_type`` (letters, digits and underscores) and an
    ``event_payload`` object, nothing else; Slack answers ``invalid_metadata_format`` otherwise."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None, [Problem("invalid_metadata_format", "metadata is not valid JSON")]
    if not isinstance(value, dict):
        return None, [Problem("invalid_metadata_format", "metadata must be an object")]
    problems = []
    event_type = value.get("event_type")
    if not isinstance(event_type, str) or not event_type or not _EVENT_TYPE.fullmatch(event_type):
        problems.append(Problem("invalid_metadata_format", "metadata.event_type must be a word like task_created"))
    if not isinstance(value.get("event_payload"), dict):
        problems.append(Problem("invalid_metadata_format", "metadata.event_payload must be an object"))
    if extra := sorted(set(value) - {"event_type", "event_payload"}):
        problems.append(Problem("invalid_metadata_format", f"metadata has unknown fields {extra}"))
    return value, problems

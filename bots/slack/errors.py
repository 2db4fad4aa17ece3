"""slack_sdk's failures mapped onto the engine's ``ChannelError`` tree (the engine decides about retries).

The client is built with ``retry_handlers=[]``, so a 429 or a 5xx reaches us as a ``SlackApiError`` whose
``response`` carries the HTTP status and headers, and a dropped connection as aiohttp's own error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackClientNotConnectedError

from bots.slack.installations import scope, workspace_key
from campaigns.ports import (
    ChannelError,
    ChannelUninstalled,
    DeliveryUncertain,
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)

RETRY_AFTER_DEFAULT = 1.0
RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})
UNREACHABLE = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
    }
)
# the person's account is deactivated: they are gone
GONE = frozenset({"user_disabled"})
SERVER = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# the workspace's problem, not the customer's: every send to that workspace fails until it reinstalls the app.
# account_inactive describes the app's token (the workspace uninstalled the app, or was deactivated), not the
# person: the workspace is parked (ChannelUninstalled) and every customer's consent stays as it was.
TOKEN_REFUSED = frozenset(
    {
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "not_allowed_token_type",
        "team_access_not_granted",
    }
)


def error_code(exc: BaseException) -> str | None:
    """The Slack error code of a ``SlackApiError`` (``channel_not_found``); None for any other failure."""
    data = getattr(getattr(exc, "response", None), "data", None) if isinstance(exc, SlackApiError) else None
    code = data.get("error") if isinstance(data, dict) else None
    return str(code) if code else None


def retry_after(headers: Mapping[str, Any] | None) -> float:
    """The seconds in a ``Retry-After`` header (any case), or the default of one second."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                break
    return RETRY_AFTER_DEFAULT


def uninstalled(team_id: str, reason: str, message: str | None = None) -> ChannelUninstalled:
    """The app is no longer installed in workspace ``team_id`` (``reason``: Slack's code, or our finding)."""
    text = message or f"Slack: the workspace's bot token was refused ({reason}): reinstall the app"
    return ChannelUninstalled(workspace_key(None, team_id), scope(team_id), reason, text)


def _api_error(exc: SlackApiError, team_id: str | None) -> ChannelError:
    """The meaning of an answer from Slack: its HTTP status first, then its error code."""
    response = exc.response
    # a SlackResponse has status_code; a body that was not JSON leaves aiohttp's response, which has status
    status = int(getattr(response, "status_code", None) or getattr(response, "status", None) or 0)
    code = error_code(exc)
    what = code or f"HTTP {status}"
    if status == 429 or code in RATE_LIMITED:
        # Slack's limits are per workspace (chat.postMessage: about one a second per channel of it): a 429 pauses
        # that workspace, never the app's other workspaces
        return RateLimited(retry_after(getattr(response, "headers", None)), f"Slack: {what}", scope="target")
    if code in UNREACHABLE:
        return RecipientUnreachable(f"Slack: {code}", left="deactivated" if code in GONE else None)
    if status >= 500 or code in SERVER:
        return TransientChannelError(f"Slack: {what}")
    if code in TOKEN_REFUSED and team_id:
        return uninstalled(team_id, code)
    if code in TOKEN_REFUSED:
        return PermanentChannelError(f"Slack: the workspace's bot token was refused ({code}): reinstall the app")
    return PermanentChannelError(f"Slack: {what}")


def channel_error(exc: BaseException, team_id: str | None = None) -> ChannelError:
    """The ``ChannelError`` that says what ``exc`` means for the engine; a refused token is the workspace
    ``team_id``'s uninstall (``ChannelUninstalled``) when the call was made for one."""
    if isinstance(exc, ChannelError):
        return exc
    if isinstance(exc, SlackApiError):
        return _api_error(exc, team_id)
    if isinstance(
        exc, TimeoutError | ConnectionResetError | aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError
    ) or (
        isinstance(exc, aiohttp.ClientOSError) and not isinstance(exc, aiohttp.ClientConnectorError)
    ):  # after the request was written: Slack may have carried it out; a retry could post it twice
        return DeliveryUncertain(f"Slack: {type(exc).__name__}: {exc}".rstrip(": "))
    if isinstance(exc, SlackClientNotConnectedError | aiohttp.ClientError | TimeoutError | OSError):
        return TransientChannelError(f"Slack: {type(exc).__name__}: {exc}".rstrip(": "))
    if isinstance(exc, SlackClientError):  # the SDK refused the request before sending it: it will again
        return PermanentChannelError(f"Slack: {type(exc).__name__}: {exc}".rstrip(": "))
    return TransientChannelError(f"Slack: {type(exc).__name__}: {exc}".rstrip(": "))

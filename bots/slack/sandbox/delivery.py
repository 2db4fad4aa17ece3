"""Delivery to the app of what the played users do: signed HTTP requests, or Socket Mode envelopes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp

from bots.slack.sandbox.socket import SocketHub

Kind = Literal["events_api", "slash_commands", "interactive"]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Slack's request signature: ``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def encode(kind: Kind, payload: dict[str, Any]) -> tuple[bytes, str]:
    """The HTTP body and content type Slack uses for each kind of request."""
    if kind == "events_api":
        return json.dumps(payload).encode(), "application/json"
    form = payload if kind == "slash_commands" else {"payload": json.dumps(payload)}
    return urlencode(form).encode(), "application/x-www-form-urlencoded"


class AppLink:
    """The way to the app: its request URL and signing secret, or its Socket Mode connections."""

    def __init__(self, app_url: str | None, signing_secret: str, now: Callable[[], float], hub: SocketHub) -> None:
        self.app_url, self.signing_secret, self.now, self.hub = app_url, signing_secret, now, hub
        self.deliveries: list[tuple[str, dict[str, Any]]] = []  # (kind, payload) of everything sent to the app
        self._session: aiohttp.ClientSession | None = None

    async def deliver(self, kind: Kind, payload: dict[str, Any]) -> tuple[int, Any]:
        """Through Socket Mode when a client is connected (answering with its ack), else a signed HTTP POST."""
        self.deliveries.append((kind, payload))
        if self.hub.connected:
            ack = await self.hub.deliver(kind, payload, accepts_response_payload=kind != "events_api")
            return 200, ack
        body, content_type = encode(kind, payload)
        return await self.post(body, content_type=content_type)

    async def post(
        self,
        body: bytes | str | dict[str, Any],
        *,
        content_type: str = "application/json",
        timestamp: int | None = None,
        signature_: str | None = None,
        sign: bool = True,
    ) -> tuple[int, Any]:
        """POST a body to the app, signed unless ``sign`` is false; the answer's status and body (JSON or text)."""
        if not self.app_url:
            raise RuntimeError("set the sandbox's app_url to deliver to the app")
        data = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type}
        if sign:
            stamp = int(self.now()) if timestamp is None else timestamp
            headers["X-Slack-Request-Timestamp"] = str(stamp)
            headers["X-Slack-Signature"] = signature_ or signature(self.signing_secret, stamp, data)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        async with self._session.post(self.app_url, data=data, headers=headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

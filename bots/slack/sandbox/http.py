"""Reading Web API calls as slack_sdk sends them (query string, form or JSON body; Bearer or Basic auth)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    """One Web API call: its params, the token it carries, and the client credentials of a Basic header."""

    params: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    client: tuple[str, str] | None = None


async def read_call(request: web.Request) -> Call:
    """The params of a call (query string and body together) and its credentials; ValueError on a bad body."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the JSON body is not an object")
            params |= body
        else:
            params |= {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
    call = Call(params)
    token = params.pop("token", None)
    call.token = token if isinstance(token, str) and token else None
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        call.token = credentials.strip()
    elif scheme.lower() == "basic" and credentials:
        try:
            client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError("the Basic authorization header is not base64") from None
        call.client = (client_id, secret)
        params.setdefault("client_id", client_id)
        params.setdefault("client_secret", secret)
    return call


async def read_response(request: web.Request) -> dict[str, Any]:
    """What the app posts to a response_url: a JSON object (or a form with a JSON ``payload``)."""
    if request.content_type == "application/json":
        body = await request.json()
    else:
        form = await request.post()
        payload = form.get("payload")
        body = (
            json.loads(payload) if isinstance(payload, str) else {k: v for k, v in form.items() if isinstance(v, str)}
        )
    if not isinstance(body, dict):
        raise ValueError("the body is not an object")
    return body

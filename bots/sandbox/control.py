"""What the sandboxes' control routes share (``/sandbox/...``: a test or a person playing the customers)."""

from __future__ import annotations

from typing import Any

from aiohttp import web


async def json_body(request: web.Request) -> dict[str, Any]:
    """A control request's JSON object (an empty body is an empty object); 400 for anything else."""
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body

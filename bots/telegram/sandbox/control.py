"""A small HTTP API to play the customers of a standalone sandbox (``chatcast sandbox telegram``).

``GET /sandbox`` (chats, violations), ``GET /sandbox/chats/{id}`` (the transcript), and ``POST`` to
``/sandbox/chats/{id}/messages`` ``{"text": ...}``, ``/presses`` ``{"message_id": ..., "data": ...}`` and
``/block`` ``{"how": "blocked"}``. A group's id is negative: there ``"from_id"`` names the member who writes or
presses, ``"reply_to"`` a message the text replies to, and ``/remove_bot`` and ``/add_bot`` take the bot out of
the group and back.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from aiohttp import web

from bots.sandbox.control import json_body

if TYPE_CHECKING:
    from bots.telegram.sandbox.server import TelegramSandbox


def _chat_id(request: web.Request) -> int:
    try:
        return int(request.match_info["chat_id"])
    except ValueError:
        raise web.HTTPBadRequest(text="the chat id must be an integer") from None


def control_routes(sandbox: TelegramSandbox) -> list[web.RouteDef]:
    """The routes that let a person or a script play the sandbox's customers over HTTP."""

    async def summary(request: web.Request) -> web.Response:
        chats = {chat_id: len(messages) for chat_id, messages in sandbox.transcripts.items()}
        return web.json_response({"chats": chats, "violations": sandbox.violations, "errors": sandbox.errors})

    async def transcript(request: web.Request) -> web.Response:
        messages = sandbox.transcripts.get(_chat_id(request), [])
        fields = ("message_id", "chat_id", "from_bot", "text", "caption", "photo", "reply_markup", "parse_mode", "date")
        return web.json_response([{key: asdict(m)[key] for key in fields} for m in messages])

    async def message(request: web.Request) -> web.Response:
        body = await json_body(request)
        if not isinstance(body.get("text"), str):
            raise web.HTTPBadRequest(text='"text" must be a string')
        options = {key: body[key] for key in ("first_name", "language_code") if key in body}
        try:
            member, reply_to = (int(body[key]) if key in body else None for key in ("from_id", "reply_to"))
            update = await sandbox.user_sends(
                _chat_id(request), body["text"], **options, from_id=member, reply_to=reply_to
            )
        except (ValueError, LookupError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response(update)

    async def press(request: web.Request) -> web.Response:
        body = await json_body(request)
        try:
            member = int(body["from_id"]) if "from_id" in body else None
            update = await sandbox.user_presses(
                _chat_id(request), int(body["message_id"]), str(body["data"]), from_id=member
            )
        except (KeyError, ValueError, LookupError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response(update)

    async def membership(request: web.Request) -> web.Response:
        body = await json_body(request)
        act = sandbox.user_removes_bot if request.path.endswith("/remove_bot") else sandbox.user_adds_bot
        try:
            update = await act(_chat_id(request), int(body["from_id"]) if "from_id" in body else None)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response(update)

    async def block(request: web.Request) -> web.Response:
        body = await json_body(request)
        try:
            sandbox.block(_chat_id(request), body.get("how", "blocked"))
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"ok": True})

    return [
        web.get("/sandbox", summary),
        web.get("/sandbox/chats/{chat_id}", transcript),
        web.post("/sandbox/chats/{chat_id}/messages", message),
        web.post("/sandbox/chats/{chat_id}/presses", press),
        web.post("/sandbox/chats/{chat_id}/block", block),
        web.post("/sandbox/chats/{chat_id}/remove_bot", membership),
        web.post("/sandbox/chats/{chat_id}/add_bot", membership),
    ]

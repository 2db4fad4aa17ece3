"""The staff's pages on the ``serve`` process, under ``/dashboard``: read-only, server-rendered (Jinja2, escaped),
behind HTTP basic auth with ``CHATCAST_DASHBOARD_USER`` / ``CHATCAST_DASHBOARD_PASSWORD``. Without a password
the pages are not served at all: nothing is open by default.

Now: one customer's conversation (``/dashboard/conversations/ID``), where a hand-off's link points.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from storage.conversations import transcript

TEMPLATES = Path(__file__).resolve().parent / "templates"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_dashboard(app: web.Application, user: str, password: str | None) -> bool:
    """Serve the pages when a password is set; whether they are served."""
    if not password:
        return False
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

    def guarded(handler: Handler) -> Handler:
        async def check(request: web.Request) -> web.StreamResponse:
            if not _authorised(request.headers.get("Authorization", ""), user, password):
                return web.Response(
                    status=401, text="login required", headers={"WWW-Authenticate": 'Basic realm="Chatcast"'}
                )
            return await handler(request)

        return check

    async def conversation(request: web.Request) -> web.Response:
        raw = request.match_info["customer_id"]
        if not raw.isdigit() or len(raw) > 18:
            raise web.HTTPNotFound(text="no such customer")
        found = await transcript(int(raw))
        if found is None:
            raise web.HTTPNotFound(text="no such customer")
        customer, chat, messages = found
        html = env.get_template("conversation.html").render(
            name=customer.name or customer.external_id,
            external_id=customer.external_id,
            channel=chat.channel if chat else None,
            holder="a person" if chat and chat.holder == "human" else "the assistant",
            reason=chat.handoff_reason if chat else None,
            summary=chat.summary if chat else "",
            messages=[
                {"role": m.role, "text": m.text, "at": f"{m.at:%Y-%m-%d %H:%M} UTC", "sentiment": m.sentiment}
                for m in messages
            ],
        )
        return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})

    app.router.add_get("/dashboard/conversations/{customer_id}", guarded(conversation))
    return True


def _authorised(header: str, user: str, password: str) -> bool:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given_user, _, given_password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user_ok = hmac.compare_digest(given_user.encode(), user.encode())
    return hmac.compare_digest(given_password.encode(), password.encode()) and user_ok

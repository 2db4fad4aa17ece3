"""A small HTTP API to play the users of a standalone sandbox (``chatcast sandbox slack``), as the Telegram
sandbox's ``/sandbox`` routes play its customers.

``GET /sandbox`` (teams, users, the app's request URL, DMs, violations, errors); ``POST /sandbox/app`` ``{"url":
...}`` (the app's request URL, as set in Slack's app settings); ``POST /sandbox/teams`` ``{"id": ..., "name":
...}`` (install the app in one more workspace: its bot token); ``POST /sandbox/teams/{team}/users`` ``{"id": ...,
"name": ..., "real_name": ...}``; and for a user, under ``/sandbox/teams/{team}/users/{user}``: ``GET`` (their DM
with the app, both sides, each message's buttons and formatting; what the app told them alone; their App Home),
``POST .../messages`` ``{"text": ...}``, ``.../presses`` ``{"ts": ..., "action_id": ...}`` (or ``"text"``: the
button's label; ``"home": true`` for a button of their App Home), ``.../home``, ``.../commands`` ``{"command":
"/shop", "text": ...}`` and ``.../deactivate``. What a user does reaches the app signed as Slack signs it; the
answer is the app's HTTP answer (``status``, ``body``).
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bots.sandbox.control import json_body
from bots.slack.sandbox.workspace import SlackError, SlackMessage, User

if TYPE_CHECKING:
    from bots.slack.sandbox.server import SlackSandbox


def _text(body: dict[str, Any], key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or not value:
        raise web.HTTPBadRequest(text=f'"{key}" must be a non-empty string')
    return value


def _shown(message: SlackMessage) -> dict[str, Any]:
    """A message as the user sees it: who wrote it, its text and blocks, its buttons and what is formatted."""
    fields = ("channel", "ts", "text", "blocks", "from_bot", "thread_ts", "edited", "metadata")
    keys = ("action_id", "value", "url")
    buttons = [{"text": b.get("text", {}).get("text")} | {k: b[k] for k in keys if k in b} for b in message.buttons()]
    formatting = [asdict(span) for span in message.formatting()]
    return {key: getattr(message, key) for key in fields} | {"buttons": buttons, "formatting": formatting}


def _pick(buttons: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """The button the body names by ``action_id`` or by its label (``text``)."""
    if "action_id" not in body and "text" not in body:
        raise web.HTTPBadRequest(text='name the button by "action_id" or by its label, "text"')
    for button in buttons:
        label = (button.get("text") or {}).get("text")
        action_id = button.get("action_id")
        if body.get("action_id", action_id) == action_id and body.get("text", label) == label:
            return button
    raise web.HTTPBadRequest(text="the message has no such button")


def control_routes(sandbox: SlackSandbox) -> list[web.RouteDef]:
    """The routes that let a person or a script play the sandbox's users over HTTP."""
    workspace = sandbox.workspace

    def user(request: web.Request) -> User:
        team, user_id = request.match_info["team"], request.match_info["user"]
        if team not in workspace.teams:
            raise web.HTTPNotFound(text=f"no team {team}: POST /sandbox/teams first")
        found = workspace.users.get((team, user_id))
        if found is None or found.is_bot:
            raise web.HTTPNotFound(text=f"no user {user_id} in {team}: POST /sandbox/teams/{team}/users first")
        return found

    def ready() -> None:
        if not sandbox.app_url and not sandbox.socket.connected:
            raise web.HTTPConflict(text='no app to deliver to: start with --app-url, or POST /sandbox/app {"url": ...}')

    async def answer(action: Coroutine[Any, Any, tuple[int, Any]]) -> web.Response:
        try:
            status, body = await action
        except aiohttp.ClientError as exc:
            raise web.HTTPBadGateway(text=f"the app at {sandbox.app_url} did not answer: {exc}") from None
        except (LookupError, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"status": status, "body": body})

    async def summary(request: web.Request) -> web.Response:
        people = [u for u in workspace.users.values() if not u.is_bot]
        teams = {
            team.id: {"name": team.name, "users": sorted(u.id for u in people if u.team_id == team.id)}
            for team in workspace.teams.values()
        }
        dms = {
            f"{team}/{user_id}": len(workspace.transcripts.get(dm, [])) for (team, user_id), dm in workspace.dms.items()
        }
        body = {"app_url": sandbox.app_url, "teams": teams, "dms": dms}
        return web.json_response(body | {"violations": sandbox.violations, "errors": sandbox.errors})

    async def set_app(request: web.Request) -> web.Response:
        sandbox.app_url = _text(await json_body(request), "url")
        return web.json_response({"ok": True, "app_url": sandbox.app_url})

    async def add_team(request: web.Request) -> web.Response:
        body = await json_body(request)
        team = _text(body, "id")
        token = sandbox.add_team(team, name=_text(body, "name", f"Sandbox {team}"))
        return web.json_response({"ok": True, "team_id": team, "bot_token": token})

    async def add_user(request: web.Request) -> web.Response:
        team, body = request.match_info["team"], await json_body(request)
        if team not in workspace.teams:
            raise web.HTTPNotFound(text=f"no team {team}: POST /sandbox/teams first")
        user_id = _text(body, "id")
        if (team, user_id) in workspace.users:
            raise web.HTTPConflict(text=f"{team} has a user {user_id} already")
        name, real_name = (_text(body, key, "") if key in body else "" for key in ("name", "real_name"))
        email = _text(body, "email") if "email" in body else None
        sandbox.add_user(team, user_id, name=name, real_name=real_name, email=email)
        return web.json_response({"ok": True, "user": asdict(workspace.users[(team, user_id)])})

    async def transcript(request: web.Request) -> web.Response:
        member = user(request)
        dm = sandbox.dm_channel(member.team_id, member.id)
        told = [m for m in workspace.ephemeral if m.team_id == member.team_id and m.user_id == member.id]
        return web.json_response({
            "dm": dm,
            "messages": [_shown(m) for m in workspace.transcripts.get(dm, [])],
            "ephemeral": [_shown(m) for m in told],
            "home": workspace.views.get((member.team_id, member.id)),
        })  # fmt: skip

    async def message(request: web.Request) -> web.Response:
        member, body = user(request), await json_body(request)
        ready()
        return await answer(sandbox.user_sends(member.team_id, member.id, _text(body, "text")))

    async def press(request: web.Request) -> web.Response:
        member, body = user(request), await json_body(request)
        ready()
        if body.get("home"):
            view = workspace.views.get((member.team_id, member.id))
            if view is None:
                raise web.HTTPBadRequest(text="the app has published no App Home for this user: POST .../home")
            blocks = [e for b in view.get("blocks", []) if b.get("type") == "actions" for e in b.get("elements", [])]
            button = _pick([e for e in blocks if e.get("type") == "button"], body)
            action_id, value = button["action_id"], button.get("value")
            return await answer(sandbox.press(member.team_id, member.id, None, action_id, value, view=view))
        shown = workspace.find(sandbox.dm_channel(member.team_id, member.id), _text(body, "ts"))
        if shown is None or not shown.from_bot:
            raise web.HTTPBadRequest(text=f"no message of the app with ts {body['ts']} in the user's DM")
        button = _pick(shown.buttons(), body)
        return await answer(sandbox.press(member.team_id, member.id, shown, button["action_id"], button.get("value")))

    async def home(request: web.Request) -> web.Response:
        member = user(request)
        ready()
        return await answer(sandbox.open_app_home(member.team_id, member.id))

    async def command(request: web.Request) -> web.Response:
        member, body = user(request), await json_body(request)
        ready()
        text = body.get("text", "")
        if not isinstance(text, str):
            raise web.HTTPBadRequest(text='"text" must be a string')
        return await answer(sandbox.slash_command(member.team_id, member.id, _text(body, "command", "/shop"), text))

    async def deactivate(request: web.Request) -> web.Response:
        member = user(request)
        try:
            sandbox.deactivate(member.team_id, member.id)
        except SlackError as exc:
            raise web.HTTPBadRequest(text=exc.error) from None
        return web.json_response({"ok": True})

    one = "/sandbox/teams/{team}/users/{user}"
    return [
        web.get("/sandbox", summary),
        web.post("/sandbox/app", set_app),
        web.post("/sandbox/teams", add_team),
        web.post("/sandbox/teams/{team}/users", add_user),
        web.get(one, transcript),
        web.post(one + "/messages", message),
        web.post(one + "/presses", press),
        web.post(one + "/home", home),
        web.post(one + "/commands", command),
        web.post(one + "/deactivate", deactivate),
    ]

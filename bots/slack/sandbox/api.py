"""The Web API's side of a call: read, validate, authenticate, meet misfortune, carry out, answer and record."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bots.slack.sandbox.api_spec import Method, SlackSpec
from bots.slack.sandbox.blocks import check_blocks, parse_blocks
from bots.slack.sandbox.faults import ChannelLimiter, Misfortune
from bots.slack.sandbox.http import read_call, read_response
from bots.slack.sandbox.methods import WebMethods
from bots.slack.sandbox.workspace import SlackError, Team, Workspace


class WebApi:
    """Answers ``/api/{method}`` and the response_urls, keeping every request, error and violation."""

    def __init__(
        self,
        spec: SlackSpec,
        workspace: Workspace,
        methods: WebMethods,
        misfortune: Misfortune,
        limiter: ChannelLimiter | None,
        *,
        app_token: str,
        strict: bool,
        timeout_delay: float,
    ) -> None:
        self.spec, self.workspace, self.methods, self.misfortune, self.limiter = (
            spec,
            workspace,
            methods,
            misfortune,
            limiter,
        )
        self.app_token, self.strict, self.timeout_delay = app_token, strict, timeout_delay
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, int, str]] = []  # (method, HTTP status, error) of every error answered
        self.violations: list[str] = []
        self.responses: list[dict[str, Any]] = []  # what the app posted to response_urls
        self.closing = asyncio.Event()
        self.late = asyncio.Event()  # set to carry out the calls a timeout fault holds (then replaced)
        self._changed = asyncio.Condition()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds, checked after every call and response_url post (TimeoutError)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One Web API call, answered as Slack does: HTTP 200 with ``ok``, or a 429 or 5xx."""
        response = await self._answer(request)
        await self._notify()
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        method = self.spec.method(name)
        if method is None:
            self.violations.append(f"{name}: unknown method")
            return self._refuse(name, SlackError("unknown_method"))
        try:
            call = await read_call(request)
        except ValueError as exc:
            self.violations.append(f"{name}: unreadable body ({exc})")
            return self._refuse(name, SlackError("invalid_form_data"))
        self.requests.append((name, call.params))
        problems = self.spec.check(method, call.params)
        self.violations.extend(f"{name}: {problem.detail}" for problem in problems)
        try:
            team = self._authenticate(method, call.token)
            if problems and self.strict:
                details = [p.detail for p in problems if p.error == problems[0].error]
                messages = [f"[ERROR] {detail}" for detail in details]
                raise SlackError(problems[0].error, errors=details, response_metadata={"messages": messages})
            if (error := self.misfortune.next_failure(name)) is not None:
                raise error
            fault = self.misfortune.next_fault(name)
            if fault == "5xx":
                raise self.misfortune.server_error()
            if fault == "disconnect":  # the connection drops before the call is carried out
                if request.transport is not None:
                    request.transport.close()
                return web.Response()
            if fault == "timeout":  # a slow server: the call is still carried out, late
                await self._slow()
            self._rate_limit(name, team, call.params)
            result = await self.methods.call(name, team, call.params)
        except SlackError as error:
            return self._refuse(name, error)
        if fault == "lost":  # carried out, and the connection drops before the answer: the app cannot tell
            if request.transport is not None:
                request.transport.close()
            return web.Response()
        return web.json_response({"ok": True, **result})

    async def _slow(self) -> None:
        """Wait ``timeout_delay``, or until the sandbox stops or :meth:`finish_late_calls` ends the wait."""
        late = self.late
        waits = [asyncio.ensure_future(event.wait()) for event in (self.closing, late)]
        try:
            await asyncio.wait(waits, timeout=self.timeout_delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def finish_late_calls(self) -> None:
        """The calls a timeout fault holds are carried out now (those to come wait again)."""
        self.late.set()
        self.late = asyncio.Event()

    def _authenticate(self, method: Method, token: str | None) -> Team | None:
        """The team of the call's bot token (None for the app-level token and the OAuth exchange)."""
        if not method.token:
            return None
        if token is None:
            raise SlackError("not_authed")
        if token == self.app_token or method.name == "apps.connections.open":
            if token == self.app_token and method.name == "apps.connections.open":
                return None
            raise SlackError("not_allowed_token_type" if token.startswith(("xoxb-", "xapp-")) else "invalid_auth")
        team_id = self.workspace.tokens.get(token)
        if team_id is None:
            raise SlackError("invalid_auth")
        if token in self.workspace.revoked:
            raise SlackError(self.workspace.revoked[token])
        return self.workspace.teams[team_id]

    def _rate_limit(self, method: str, team: Team | None, params: dict[str, Any]) -> None:
        if self.limiter is None or method != "chat.postMessage" or team is None:
            return
        channel, _ = self.workspace.resolve(team.id, str(params.get("channel", "")))
        if wait := self.limiter.acquire(channel):
            raise SlackError("ratelimited", 429, retry_after=wait)

    def _refuse(self, method: str, error: SlackError) -> web.Response:
        self.errors.append((method, error.status, error.error))
        return web.json_response(error.body(), status=error.status, headers=error.headers())

    async def response_url(self, request: web.Request) -> web.Response:
        """The app answers a slash command or a button press through its response_url."""
        response = await self._respond(request)
        await self._notify()
        return response

    async def _respond(self, request: web.Request) -> web.Response:
        try:
            body = await read_response(request)
        except ValueError:
            self.violations.append("response_url: the body is not a JSON object")
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        self.responses.append(body)
        blocks, problems = parse_blocks(body["blocks"]) if "blocks" in body else ([], [])
        problems += check_blocks(blocks or [])
        self.violations.extend(f"response_url: {problem.detail}" for problem in problems)
        if problems and self.strict:
            return web.json_response({"ok": False, "error": problems[0].error}, status=400)
        whom = self.workspace.responders.get(f"{request.match_info['team']}/{request.match_info['n']}")
        if whom is not None:
            self.workspace.answer(*whom, body | {"blocks": blocks or []})
        return web.json_response({"ok": True})

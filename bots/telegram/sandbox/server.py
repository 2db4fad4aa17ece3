"""A loopback Telegram Bot API server for the demo, the tests and the benchmarks.

The real aiogram session talks to it through ``TelegramAPIServer.from_base(sandbox.base_url)``. It validates
every request (against the spec file when given one, else against aiogram's method models), answers with
spec-shaped results or Telegram-shaped errors, keeps per-chat transcripts, can enforce the broadcast rate
limits and inject faults, and plays the customers: their messages and button presses reach the bot through
getUpdates or its webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import aiohttp
from aiohttp import web

from bots.telegram.sandbox.api_spec import ModelValidator, SpecValidator, Upload, Validator
from bots.telegram.sandbox.chats import REFUSALS, ApiError, Chats, RateLimiter, SandboxMessage, has_button
from bots.telegram.sandbox.control import control_routes
from bots.telegram.sandbox.limits import check_limits
from bots.telegram.sandbox.methods import BotMethods
from bots.telegram.sandbox.updates import UpdateFeed

__all__ = ["SandboxMessage", "TelegramSandbox", "serve"]

PLUMBING = frozenset({"getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "logOut", "close"})
_FORWARDS = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


def is_send(method: str) -> bool:
    """Whether a method counts against the broadcast limits."""
    return (method.startswith("send") and method != "sendChatAction") or method in _FORWARDS


async def _multipart(reader: aiohttp.MultipartReader) -> dict[str, Any]:
    """The fields of a multipart body; uploaded files replace their ``attach://`` references or stand alone."""
    fields: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    async for part in reader:
        if isinstance(part, aiohttp.BodyPartReader) and part.name:
            if part.filename:
                files[part.name] = Upload(part.name, part.filename, bytes(await part.read()))
            else:
                fields[part.name] = await part.text()
    for key, value in list(fields.items()):
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            fields[key] = files.pop(value[9:])
    mentioned = " ".join(value for value in fields.values() if isinstance(value, str))
    return fields | {name: upload for name, upload in files.items() if f"attach://{name}" not in mentioned}


async def _read(request: web.Request) -> tuple[dict[str, Any], bool]:
    """The params of a call (query string and body) and whether they came as form strings."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("the JSON body is not an object")
        return params | body, bool(params)
    if request.content_type == "multipart/form-data":
        return params | await _multipart(await request.multipart()), True
    if request.can_read_body:
        params |= {key: value for key, value in (await request.post()).items() if isinstance(value, str)}
    return params, True


IGNORED = "unknown field"  # what Telegram lets pass: a field it does not know


class TelegramSandbox:
    """A loopback Bot API server that validates, answers and records every call, and plays the customers."""

    def __init__(
        self,
        *,
        spec: Path | None = None,
        token: str = "123456:SANDBOX",
        rate_limits: bool = False,
        global_per_second: float = 30,
        chat_per_second: float = 1,
        fault_rate: float = 0.0,
        fault: Literal["5xx", "timeout", "429", "disconnect", "mixed"] = "5xx",
        timeout_delay: float = 30.0,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        strict: bool = True,
    ) -> None:
        self.token, self.strict = token, strict
        self.fault_rate, self.fault, self.timeout_delay = fault_rate, fault, timeout_delay
        self.validator: Validator = SpecValidator(spec) if spec else ModelValidator()
        bot_id = int(token.split(":")[0])
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Chatcast Sandbox",
            "username": "chatcast_sandbox_bot",
        }
        self.chats = Chats(self.bot_user)
        self.feed = UpdateFeed(self._webhook_reply)
        self.methods = BotMethods(self.chats, self.feed, self.validator.returns)
        self.limiter = RateLimiter(global_per_second, chat_per_second, clock) if rate_limits else None
        self.transcripts: dict[int, list[SandboxMessage]] = self.chats.transcripts
        self.answered_callbacks: dict[str, dict[str, Any]] = self.methods.answered_callbacks
        self.webhook_responses: list[int] = self.feed.webhook_responses
        self.violations: list[str] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, int, str]] = []  # (method, error_code, description) of every error answered
        self.faults: dict[str, int] = {}  # the random faults injected, by kind
        self.base_url = ""
        self._random = random.Random(seed)
        self._query_ids = itertools.count(4_000_000_000_000_001)
        self._failures: list[tuple[str | None, ApiError]] = []
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); returns the base URL."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_routes(control_routes(self))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        """Answer what is waiting (long polls, simulated slowness) and close."""
        self._closing.set()
        await self.feed.close()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramSandbox:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    def sent(self, chat_id: int) -> list[SandboxMessage]:
        """The bot's messages in a chat, in order."""
        return [message for message in self.transcripts.get(chat_id, []) if message.from_bot]

    def block(self, chat_id: int, how: Literal["blocked", "kicked", "deactivated", "not_found"] = "blocked") -> None:
        """The customer blocks the bot (or is deactivated, or the chat is gone): calls to the chat fail."""
        if how not in REFUSALS:
            raise ValueError(f"how must be one of {sorted(REFUSALS)}")
        self.chats.blocked[chat_id] = how

    async def user_blocks(self, chat_id: int) -> dict[str, Any]:
        """The customer blocks the bot in their private chat: calls to the chat fail from now on, and Telegram
        tells the bot at once with a ``my_chat_member`` update (kicked); returns the Update."""
        self.block(chat_id, "blocked")
        member = {"user": self.chats.bot_user}
        change = {
            "chat": self.chats.chat(chat_id),
            "from": self.chats.user(chat_id),
            "date": int(time.time()),
            "old_chat_member": member | {"status": "member"},
            "new_chat_member": member | {"status": "kicked", "until_date": 0},
        }
        update = self.feed.make("my_chat_member", change)
        await self.feed.publish(update)
        return update

    async def user_removes_bot(self, chat_id: int, from_id: int | None = None) -> dict[str, Any]:
        """A member removes the bot from a group: calls to the group fail from now on (kicked), and Telegram tells
        the bot at once with a ``my_chat_member`` update (left); returns the Update."""
        return await self._membership(chat_id, from_id, "member", "left", refusal="kicked")

    async def user_adds_bot(self, chat_id: int, from_id: int | None = None) -> dict[str, Any]:
        """A member adds the bot to a group (again): it can send there, and Telegram tells it (``my_chat_member``,
        member); returns the Update."""
        self.chats.blocked.pop(chat_id, None)
        return await self._membership(chat_id, from_id, "left", "member")

    async def _membership(
        self, chat_id: int, from_id: int | None, old: str, new: str, refusal: str | None = None
    ) -> dict[str, Any]:
        if chat_id > 0:
            raise ValueError(f"{chat_id} is a private chat: its customer blocks the bot (user_blocks)")
        if refusal:
            self.chats.blocked[chat_id] = refusal
        member = {"user": self.chats.bot_user}
        change = {
            "chat": self.chats.chat(chat_id),
            "from": self.chats.user(self.chats.sender(chat_id, from_id)),
            "date": int(time.time()),
            "old_chat_member": member | {"status": old},
            "new_chat_member": member | {"status": new},
        }
        update = self.feed.make("my_chat_member", change)
        await self.feed.publish(update)
        return update

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: calls to the old id fail with migrate_to_chat_id."""
        self.chats.migrated[chat_id] = new_chat_id

    async def user_sends(
        self,
        chat_id: int,
        text: str,
        *,
        first_name: str = "Ann",
        language_code: str | None = "en",
        from_id: int | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """The customer writes to the bot (this unblocks it), or in a group (a negative id) the member ``from_id``
        writes there, replying to the message ``reply_to`` if given; returns the Update, queued or POSTed to the
        webhook."""
        self.chats.people[self.chats.sender(chat_id, from_id)] = (first_name, language_code)
        if self.chats.blocked.get(chat_id) == "blocked":
            del self.chats.blocked[chat_id]
        message = self.chats.user_message(chat_id, text, from_id=from_id, reply_to=reply_to)
        update = self.feed.make("message", message.api)
        await self.feed.publish(update)
        return update

    async def user_presses(
        self, chat_id: int, message_id: int, data: str, *, from_id: int | None = None
    ) -> dict[str, Any]:
        """The customer (in a group: the member ``from_id``) presses the inline button with ``data`` under a bot's
        message; returns the Update."""
        message = self.chats.find(chat_id, message_id)
        if message is None or not message.from_bot or not has_button(message, data):
            raise LookupError(f"chat {chat_id} has no bot message {message_id} with a button {data!r}")
        query_id = str(next(self._query_ids))
        self.chats.open_callbacks[query_id] = chat_id
        query = {"id": query_id, "from": self.chats.user(self.chats.sender(chat_id, from_id)), "message": message.api}
        update = self.feed.make("callback_query", query | {"chat_instance": str(chat_id), "data": data})
        await self.feed.publish(update)
        return update

    def fail_next(
        self, status: int, description: str, *, retry_after: int | None = None, method: str | None = None
    ) -> None:
        """Answer the next call (of ``method``; with none, of any method but getUpdates) with this error."""
        name = (self.validator.method(method) or method) if method else None
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._failures.append((name, ApiError(status, description, parameters)))

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            return await self._answer(request)
        except _Disconnect:  # the connection drops before the call is carried out: the client sees no answer
            if request.transport is not None:
                request.transport.close()
            return web.Response()

    async def _answer(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._refuse(name, ApiError(401, "Unauthorized"))
        method = self.validator.method(name)
        if method is None:
            self.violations.append(f"{name}: unknown method")
            return self._refuse(name, ApiError(404, "Not Found"))
        try:
            params, form = await _read(request)
        except ValueError as exc:
            self.violations.append(f"{method}: unreadable body ({exc})")
            return self._refuse(method, ApiError(400, "Bad Request: can't parse request body"))
        status, body = await self.call(method, params, form=form)
        return web.json_response(body, status=status)

    def _refuse(self, method: str, error: ApiError) -> web.Response:
        self.errors.append((method, error.error_code, error.description))
        return web.json_response(error.body(), status=error.error_code)

    async def call(self, method: str, params: dict[str, Any], *, form: bool = False) -> tuple[int, dict[str, Any]]:
        """Validate, record and answer one call of a known method: the HTTP status and the JSON body."""
        params, problems = self.validator.check(method, params, form)
        problems += check_limits(method, params)
        self.requests.append((method, params))
        self.violations.extend(f"{method}: {problem.detail}" for problem in problems)
        # Telegram ignores fields it does not know (it answers as if they were absent): so does the sandbox, while
        # keeping them as violations, so that a test still fails on a misspelt parameter of ours
        refused = [problem for problem in problems if not problem.detail.startswith(IGNORED)]
        try:
            if refused and self.strict:
                raise ApiError(400, refused[0].description)
            await self._misfortune(method)
            chat_id = params.get("chat_id")
            if isinstance(chat_id, int) and (refusal := self.chats.refusal(chat_id)):
                raise refusal
            if (
                self.limiter
                and is_send(method)
                and isinstance(chat_id, int)
                and (wait := self.limiter.acquire(chat_id))
            ):
                raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
            result = await self.methods.call(method, params)
        except ApiError as error:
            self.errors.append((method, error.error_code, error.description))
            return error.error_code, error.body()
        return 200, {"ok": True, "result": result}

    async def _misfortune(self, method: str) -> None:
        """The injected failures: one queued by ``fail_next``, else a random fault at ``fault_rate``."""
        for i, (only, error) in enumerate(self._failures):
            if only == method or (only is None and method != "getUpdates"):
                del self._failures[i]
                raise error
        if self.fault_rate <= 0 or method in PLUMBING or self._random.random() >= self.fault_rate:
            return
        fault = self._random.choice(("5xx", "timeout", "429", "disconnect")) if self.fault == "mixed" else self.fault
        self.faults[fault] = self.faults.get(fault, 0) + 1
        if fault == "429":
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if fault == "disconnect":
            raise _Disconnect()
        if fault == "timeout":  # a slow server: the call is still carried out, late
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.timeout_delay)
            return
        status = self._random.choice((500, 502))
        raise ApiError(status, "Internal Server Error" if status == 500 else "Bad Gateway")

    async def _webhook_reply(self, response: aiohttp.ClientResponse) -> None:
        """A webhook may answer with a method call (aiogram's reply-in-webhook): carry it out."""
        if response.content_type == "multipart/form-data":
            params = await _multipart(aiohttp.MultipartReader(response.headers, response.content))
        elif response.content_type == "application/json":
            params = await response.json()
        else:
            return
        name = params.pop("method", None) if isinstance(params, dict) else None
        if isinstance(name, str):
            method = self.validator.method(name)
            if method is None:
                self.violations.append(f"{name}: unknown method (in a webhook reply)")
            else:
                await self.call(method, params, form=True)


class _Disconnect(Exception):
    """Drop this request's connection without an answer."""


async def serve(port: int, spec: Path | None, *, host: str = "127.0.0.1", **options: Any) -> None:
    """Run a sandbox on ``host:port`` until cancelled, printing its base URL."""
    sandbox = TelegramSandbox(spec=spec, **options)
    url = await sandbox.start(host, port)
    print(f"Telegram Bot API sandbox at {url} (token {sandbox.token}); Ctrl+C stops it", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()

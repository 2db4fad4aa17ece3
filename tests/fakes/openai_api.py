"""A fake OpenAI API on an ``httpx2.MockTransport``: it answers chat completions from a script, like the real API,
and records every request; with a validator it also checks each request against the API's OpenAPI schema.

Build the real client on it with :meth:`FakeOpenAI.client`; no request ever reaches the network.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from openai import AsyncOpenAI

BASE_URL = "http://openai.test/v1"
Request = dict[str, Any]
Validator = Callable[[Request], list[str]]


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a completion (content or refusal), or an HTTP error."""

    status: int = 200
    content: str | None = None
    refusal: str | None = None
    tokens: int = 100
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    tool_calls: tuple[tuple[str, dict[str, Any] | str], ...] = ()  # (function name, arguments) the model calls


def draft(text: str, labels: list[str] | tuple[str, ...] = (), tokens: int = 100) -> Answer:
    """A normal structured answer: the copy's text template and button labels."""
    return Answer(content=json.dumps({"text": text, "button_labels": list(labels)}), tokens=tokens)


def calls(*tool_calls: tuple[str, dict[str, Any] | str]) -> Answer:
    """The model calls tools (arguments as an object, or as raw text to send malformed JSON)."""
    return Answer(tool_calls=tool_calls, finish_reason="tool_calls", tokens=60)


def said(text: str) -> Answer:
    """The model's plain answer."""
    return Answer(content=text, tokens=80)


def refusal(reason: str = "I'm sorry, I can't help with that.") -> Answer:
    """The model declines (``message.refusal`` set, no content)."""
    return Answer(refusal=reason, tokens=20)


def malformed(content: str = '{"text": "Hello {{ customer.first_name }}", "button_lab') -> Answer:
    """Content that is not the JSON asked for."""
    return Answer(content=content, tokens=50)


def error(status: int = 500, message: str = "The server had an error", headers: dict[str, str] | None = None) -> Answer:
    """An HTTP error with the API's error body (429: add a ``retry-after`` header)."""
    return Answer(status=status, content=message, headers=headers or {})


class FakeOpenAI:
    """Answers ``POST /v1/chat/completions`` from ``script`` (then from ``default``), recording each request."""

    def __init__(
        self, *script: Answer, default: Callable[[Request], Answer] | None = None, validate: Validator | None = None
    ) -> None:
        self.script, self.default, self.validate = deque(script), default, validate
        self.requests: list[Request] = []
        self.problems: list[str] = []  # schema violations and unscripted requests: a test expects none
        self.in_flight = self.peak = 0  # requests being answered now, and at most at once
        self.transport = httpx2.MockTransport(self._handle)
        self._ids = itertools.count(1)

    def client(self) -> AsyncOpenAI:
        """The real SDK client, talking to this fake only, without retries."""
        http = httpx2.AsyncClient(transport=self.transport)
        return AsyncOpenAI(api_key="test", base_url=BASE_URL, http_client=http, max_retries=0)

    async def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            for _ in range(3):  # let other requests in, as a server's latency would
                await asyncio.sleep(0)
            return self._answer(request)
        finally:
            self.in_flight -= 1

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST" or str(request.url) != f"{BASE_URL}/chat/completions":
            self.problems.append(f"unexpected request {request.method} {request.url}")
            return _error(404, "Unknown endpoint")
        body = json.loads(request.content)
        self.requests.append(body)
        if self.validate and (found := self.validate(body)):
            self.problems.extend(found)
            return _error(400, "; ".join(found))
        if self.script:
            answer = self.script.popleft()
        elif self.default:
            answer = self.default(body)
        else:
            self.problems.append("a request beyond the script")
            return _error(500, "unscripted request")
        if answer.status != 200:
            return _error(answer.status, answer.content or "error", answer.headers)
        return httpx2.Response(200, json=self._completion(body, answer))

    def _completion(self, body: Request, answer: Answer) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer.content,
            "refusal": answer.refusal,
            "annotations": [],
        }
        if answer.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
                }
                for name, args in answer.tool_calls
            ]
        prompt = answer.tokens * 3 // 4
        return {
            "id": f"chatcmpl-fake{next(self._ids)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "unknown"),
            "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": answer.tokens - prompt,
                "total_tokens": answer.tokens,
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    kind = {400: "invalid_request_error", 429: "rate_limit_exceeded"}.get(status, "server_error")
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return httpx2.Response(status, json=body, headers=headers or {})


def user_data(request: Request) -> dict[str, Any]:
    """The JSON between the ``<data>`` markers of a request's user message."""
    user = next(m["content"] for m in request["messages"] if m["role"] == "user")
    return json.loads(user.split("<data>", 1)[1].rsplit("</data>", 1)[0])


def schema_validator(openapi: Path, schema: str = "CreateChatCompletionRequest") -> Validator:
    """A check of request bodies against ``schema`` of the OpenAPI document (jsonschema, $refs resolved)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    base = "urn:openai-openapi"
    document = Resource.from_contents(json.loads(openapi.read_text(encoding="utf-8")), DRAFT202012)
    checker = jsonschema.Draft202012Validator(
        {"$ref": f"{base}#/components/schemas/{schema}"}, registry=Registry().with_resource(base, document)
    )

    def problems(body: Request) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message[:300]}" for e in checker.iter_errors(body)
        ]

    return problems

"""Socket Mode: the websocket at ``/socket-mode`` that hands the app its envelopes and takes its acks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web


class SocketHub:
    """The Socket Mode connections of the app: one-time URLs, the hello, envelopes out and acks back."""

    def __init__(self, app_id: str, ack_timeout: float) -> None:
        self.app_id, self.ack_timeout = app_id, ack_timeout
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: list[dict[str, Any]] = []  # every ack the app sent, in order
        self._tickets: set[str] = set()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()

    def url(self, origin: str) -> str:
        """A one-time websocket URL, as apps.connections.open hands out."""
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return f"ws{origin.removeprefix('http')}/socket-mode?ticket={ticket}&app_id={self.app_id}"

    @property
    def connected(self) -> bool:
        """Whether at least one Socket Mode client is connected."""
        return bool(self.sockets)

    async def until_connected(self, count: int = 1) -> None:
        """Wait until ``count`` clients are connected (wrap it in ``asyncio.timeout``)."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.sockets) >= count)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """A client connects with its ticket; it gets a hello, then envelopes, and answers with acks."""
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            raise web.HTTPUnauthorized(text="invalid or used ticket: call apps.connections.open")
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        hello = {
            "type": "hello",
            "num_connections": len(self.sockets),
            "debug_info": {"host": "applink-sandbox", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        try:
            await socket.send_json(hello)
            await self._notify()
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._ack(message.data)
        finally:
            self.sockets.remove(socket)
            await self._notify()
        return socket

    def _ack(self, data: str) -> None:
        with contextlib.suppress(ValueError):
            ack = json.loads(data)
            if isinstance(ack, dict) and isinstance(ack.get("envelope_id"), str):
                self.acks.append(ack)
                waiter = self._pending.pop(ack["envelope_id"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(ack.get("payload") or {})

    async def deliver(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool) -> dict[str, Any]:
        """Send an envelope to the newest connection and wait for its ack; returns the ack's payload (or {})."""
        if not self.sockets:
            raise ConnectionError("no Socket Mode client is connected")
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        waiter = self._pending[envelope_id] = asyncio.get_running_loop().create_future()
        try:
            await self.sockets[-1].send_json(envelope)
            return await asyncio.wait_for(waiter, self.ack_timeout)
        except TimeoutError:
            raise TimeoutError(f"no ack for {kind} envelope {envelope_id} within {self.ack_timeout}s") from None
        finally:
            self._pending.pop(envelope_id, None)

    async def close(self) -> None:
        """Close every connection."""
        for socket in list(self.sockets):
            await socket.close(code=1001, message=b"sandbox stopping")

"""The updates the sandbox's customers produce: kept for getUpdates, or POSTed to the bot's webhook."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=60)


class UpdateFeed:
    """Pending updates with long polling (an event, never a sleep loop) and webhook delivery in order."""

    def __init__(self, on_reply: Callable[[aiohttp.ClientResponse], Awaitable[None]]) -> None:
        self.pending: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None  # the setWebhook params while a webhook is set
        self.webhook_responses: list[int] = []  # the HTTP status of every delivery; 0 when it could not connect
        self.allowed: list[str] | None = None
        self.last_error: tuple[int, str] | None = None
        self._on_reply = on_reply
        self._next_id = 1
        self._arrived = asyncio.Event()
        self._delivering = asyncio.Lock()
        self._closed = False
        self._session: aiohttp.ClientSession | None = None

    def make(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A new Update with the next update_id."""
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        return update

    async def publish(self, update: dict[str, Any]) -> None:
        """Queue an update (unless allowed_updates leaves its kind out) and deliver it if a webhook is set."""
        kind = next(key for key in update if key != "update_id")
        if self.allowed and kind not in self.allowed:
            return
        self.pending.append(update)
        self._arrived.set()
        if self.webhook:
            await self._deliver()

    async def get(self, offset: int, limit: int, wait: float) -> list[dict[str, Any]]:
        """getUpdates: confirm updates before ``offset``, then wait up to ``wait`` seconds for one."""
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not self.pending and not self._closed and not self.webhook and (remaining := deadline - loop.time()) > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        return self.pending[: max(1, min(limit, 100))]

    def set_webhook(self, params: dict[str, Any]) -> None:
        """setWebhook (an empty url removes it)."""
        if params.get("drop_pending_updates"):
            self.pending.clear()
        if isinstance(params.get("allowed_updates"), list):
            self.allowed = params["allowed_updates"]
        self.webhook = params if params.get("url") else None
        self._arrived.set()  # a getUpdates waiting now must learn that a webhook took over

    def delete_webhook(self, drop_pending_updates: bool) -> None:
        """deleteWebhook."""
        self.webhook = None
        if drop_pending_updates:
            self.pending.clear()

    def info(self) -> dict[str, Any]:
        """The WebhookInfo object."""
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.pending)}
        if self.webhook:
            info |= {"url": self.webhook["url"], "ip_address": "127.0.0.1"}
            info["max_connections"] = self.webhook.get("max_connections", 40)
        if self.allowed:
            info["allowed_updates"] = self.allowed
        if self.last_error:
            info |= {"last_error_date": self.last_error[0], "last_error_message": self.last_error[1]}
        return info

    async def _deliver(self) -> None:
        async with self._delivering:  # one delivery at a time keeps the updates in order
            while self.pending and self.webhook:
                update, webhook = self.pending.pop(0), self.webhook
                secret = webhook.get("secret_token")
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if isinstance(secret, str) else {}
                self._session = self._session or aiohttp.ClientSession(timeout=WEBHOOK_TIMEOUT)
                try:
                    async with self._session.post(webhook["url"], json=update, headers=headers) as response:
                        self.webhook_responses.append(response.status)
                        if response.status >= 300:
                            self.last_error = (int(time.time()), f"Wrong response from the webhook: {response.status}")
                        else:
                            await self._on_reply(response)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.webhook_responses.append(0)
                    self.last_error = (int(time.time()), f"Connection failed: {exc}")

    async def close(self) -> None:
        """End long polls and close the webhook client."""
        self._closed = True
        self._arrived.set()
        if self._session:
            await self._session.close()
            self._session = None

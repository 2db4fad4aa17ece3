"""OAuth state without server storage: signed, expiring state values, so any ``serve`` process can check them.

bolt also binds the state to the installing browser with a cookie, which is what stops a forged redirect.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable

from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

_log = logging.getLogger(__name__)


class SignedStateStore(AsyncOAuthStateStore):
    """Issues ``nonce.issued.signature`` states, valid for ``expiration_seconds``, signed with a server secret."""

    def __init__(self, secret: str, *, expiration_seconds: int = 600, clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("the OAuth state needs a secret to sign with")
        self._key = hashlib.sha256(b"chatcast-slack-oauth-state:" + secret.encode()).digest()
        self._expiration, self._clock = expiration_seconds, clock

    @property
    def logger(self) -> logging.Logger:
        """The logger slack_sdk expects a store to have."""
        return _log

    def _sign(self, nonce: str, issued: int) -> str:
        return hmac.new(self._key, f"{nonce}.{issued}".encode(), hashlib.sha256).hexdigest()[:32]

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        """A fresh state value."""
        nonce, issued = secrets.token_urlsafe(16), int(self._clock())
        return f"{nonce}.{issued}.{self._sign(nonce, issued)}"

    async def async_consume(self, state: str) -> bool:
        """Whether ``state`` is one of ours and not expired."""
        nonce, _, rest = state.partition(".")
        issued_text, _, signature = rest.partition(".")
        if not (nonce and issued_text.isdigit() and signature):
            return False
        issued = int(issued_text)
        fresh = 0 <= self._clock() - issued <= self._expiration
        return fresh and hmac.compare_digest(signature, self._sign(nonce, issued))

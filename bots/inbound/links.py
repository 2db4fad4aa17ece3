"""Signed deep-link tokens that tie a chat to a customer the shop already knows.

The shop's website shows a logged-in customer a link such as ``https://t.me/<bot>?start=<token>``; the
bot hands the token to the engine, which links the chat to that customer. Telegram's ``/start`` payload
allows only ``[A-Za-z0-9_-]`` and at most 64 characters, so a token is unpadded base64url of at most 48
bytes: the issue time (4 bytes, minutes since the epoch), the external id, and a truncated HMAC-SHA256.

The external id travels readable (base64 is no encryption): a token proves who the shop issued it to,
it hides nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

TOKEN_MAX = 64
MAC_BYTES = 12
_TIME_BYTES = 4
MAX_EXTERNAL_ID_BYTES = TOKEN_MAX * 3 // 4 - _TIME_BYTES - MAC_BYTES
_ALPHABET = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DOMAIN = b"chatcast/link/v1\x00"
# tokens minted by a web server whose clock runs a little ahead are still good
_CLOCK_SKEW = timedelta(minutes=5)


def _mac(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), _DOMAIN + body, hashlib.sha256).digest()[:MAC_BYTES]


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def make_token(external_id: str, secret: str, *, now: datetime | None = None) -> str:
    """A token for ``external_id`` issued ``now``; ValueError when the id is empty or too long to fit."""
    if not secret:
        raise ValueError("a link secret is needed to sign tokens")
    raw_id = external_id.encode()
    if not raw_id:
        raise ValueError("the external id of a link token cannot be empty")
    if len(raw_id) > MAX_EXTERNAL_ID_BYTES:
        raise ValueError(
            f"external id {external_id[:40]!r} is {len(raw_id)} bytes in UTF-8; a link token holds at most "
            f"{MAX_EXTERNAL_ID_BYTES} (a chat's start link carries at most {TOKEN_MAX} characters)"
        )
    body = _minutes(now or datetime.now(UTC)).to_bytes(_TIME_BYTES, "big") + raw_id
    return base64.urlsafe_b64encode(body + _mac(secret, body)).rstrip(b"=").decode("ascii")


def _decode(token: str) -> bytes | None:
    if not _ALPHABET.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    # one token, one spelling: reject encodings whose unused trailing bits are set
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        return None
    return raw


def read_token(
    token: str, secret: str, *, now: datetime | None = None, max_age: timedelta = timedelta(days=30)
) -> str | None:
    """The external id a valid token names; None when it is malformed, forged, expired or from the future."""
    if not secret:
        raise ValueError("a link secret is needed to read tokens")
    raw = _decode(token)
    if raw is None or len(raw) <= _TIME_BYTES + MAC_BYTES:
        return None
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(secret, body)):
        return None
    issued = datetime.fromtimestamp(int.from_bytes(body[:_TIME_BYTES], "big") * 60, UTC)
    now = now or datetime.now(UTC)
    if issued > now + _CLOCK_SKEW or now - issued > max_age:
        return None
    try:
        return body[_TIME_BYTES:].decode()
    except UnicodeDecodeError:
        return None

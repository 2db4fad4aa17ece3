"""Tracked links: every web address of a campaign message goes out as a short signed redirect of ``chatcast serve``.

A message's links are its link buttons' addresses, then the ``http(s)://`` addresses in its text, each distinct
address once, in that order (:func:`links`); link ``k`` of delivery ``d`` goes out as ``{base}/l/<token>``, the
token being unpadded base64url of ``d`` (big-endian, as few bytes as it takes), ``k`` (one byte) and a truncated
HMAC-SHA256 of both. The row keeps its text as written: the redirect finds link ``k`` again in it, and a retried
row goes out with the same addresses (a split message is split the same way). The token carries no name, no chat
and no address of the customer: only the delivery's number, which says nothing without the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from campaigns.ports import Button

PATH = "/l/"  # the redirect's route under the public address of serve
MAC_BYTES = 8
MAX_LINKS = 256  # a link's number is one byte: the addresses after the 256th go out as they are
_ID_BYTES = 8  # a delivery id is a BIGINT
_TOKEN = re.compile(r"[A-Za-z0-9_-]{4,40}")
_DOMAIN = b"chatcast/click/v1\x00"  # not a deep-link token's (bots.inbound.links), though the secret may be the same
# a web address in running text; what may end it but is rarely its own last character is trimmed below
_URL = re.compile(r"https?://[^\s<>\"'`\x00-\x1f\x7f]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"*_~…"
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _trim(url: str) -> str:
    """``url`` without the punctuation of the sentence around it: a final stop or comma, and a closing bracket
    that it did not open (``(see https://x/a_(b))`` keeps ``https://x/a_(b)``)."""
    while url:
        last = url[-1]
        unopened = last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])
        if last not in _TRAILING and not unopened:
            break
        url = url[:-1]
    return url


def _web(url: str | None) -> bool:
    return bool(url) and _URL.fullmatch(url or "") is not None


def text_links(text: str) -> list[tuple[int, int, str]]:
    """The web addresses in ``text``: (start, end, address), in order."""
    found = []
    for match in _URL.finditer(text):
        url = _trim(match.group())
        if len(url) > len("https://"):
            found.append((match.start(), match.start() + len(url), url))
    return found


def links(text: str, buttons: Sequence[Button]) -> list[str]:
    """The message's links, numbered by their place here: its link buttons' addresses, then those in its text, each
    distinct address once (at most :data:`MAX_LINKS`)."""
    found: list[str] = []
    for url in [b.url for b in buttons if b.url and _web(b.url)] + [url for _, _, url in text_links(text)]:
        if url not in found and len(found) < MAX_LINKS:
            found.append(url)
    return found


class LinkTokens:
    """Signs and reads the tokens of tracked links with one secret (never shown: it is not kept in the repr)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a secret is needed to sign tracked links")
        self._keyed = hmac.new(secret.encode(), _DOMAIN, hashlib.sha256)  # copied for each token: the key once

    def __repr__(self) -> str:
        return "LinkTokens(...)"

    def _mac(self, body: bytes) -> bytes:
        mac = self._keyed.copy()
        mac.update(body)
        return mac.digest()[:MAC_BYTES]

    def token(self, delivery_id: int, index: int) -> str:
        """The token of link ``index`` of delivery ``delivery_id``."""
        if not 0 < delivery_id < 2 ** (8 * _ID_BYTES - 1) or not 0 <= index < MAX_LINKS:
            raise ValueError(f"no token for link {index} of delivery {delivery_id}")
        body = delivery_id.to_bytes((delivery_id.bit_length() + 7) // 8, "big") + bytes([index])
        return base64.urlsafe_b64encode(body + self._mac(body)).rstrip(b"=").decode("ascii")

    def read(self, token: str) -> tuple[int, int] | None:
        """(delivery id, link number) of a token this secret signed; None for any other text (malformed, cut short,
        altered, signed with another secret)."""
        if not _TOKEN.fullmatch(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            return None
        # one token, one spelling: an encoding whose unused trailing bits are set is not ours
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
            return None
        body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if not 2 <= len(body) <= _ID_BYTES + 1 or not hmac.compare_digest(mac, self._mac(body)):
            return None
        delivery_id = int.from_bytes(body[:-1], "big")
        return (delivery_id, body[-1]) if delivery_id > 0 else None


@dataclass(frozen=True)
class TrackedLinks:
    """How a dispatcher rewrites a message's links: the tokens' signer and the public address of ``serve``."""

    tokens: LinkTokens
    base_url: str

    @property
    def prefix(self) -> str:
        """What every tracked link starts with: ``{base}/l/``."""
        return self.base_url.rstrip("/") + PATH

    def url(self, delivery_id: int, index: int) -> str:
        """The redirect of link ``index`` of delivery ``delivery_id``."""
        return self.prefix + self.tokens.token(delivery_id, index)

    def rewrite(self, delivery_id: int, text: str, buttons: Sequence[Button]) -> tuple[str, tuple[Button, ...]]:
        """``text`` and ``buttons`` with every link (:func:`links`) replaced by its redirect; the same for the same
        delivery every time."""
        numbered = {url: n for n, url in enumerate(links(text, buttons))}
        if not numbered:
            return text, tuple(buttons)
        out, at = [], 0
        for start, end, url in text_links(text):
            if url in numbered:
                out += [text[at:start], self.url(delivery_id, numbered[url])]
                at = end
        out.append(text[at:])
        tracked = tuple(
            replace(b, url=self.url(delivery_id, numbered[b.url])) if b.url in numbered else b for b in buttons
        )
        return "".join(out), tracked

"""Tracked links: the signed tokens (forged, cut short, another delivery's), the links a message has, and the
rewrite of its text and buttons."""

from __future__ import annotations

import base64
import re

import pytest

from campaigns.delivery.links import MAX_LINKS, LinkTokens, TrackedLinks, links, text_links
from campaigns.ports import Button

SECRET = "click-secret"
BASE = "https://chat.shop.example"


def test_a_token_names_its_delivery_and_link_and_is_short() -> None:
    tokens = LinkTokens(SECRET)
    for delivery_id, index in ((1, 0), (255, 3), (1_000_000, 7), (2**40, 255), (2**63 - 1, 1)):
        token = tokens.token(delivery_id, index)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token) and len(token) <= 24, token
        assert tokens.read(token) == (delivery_id, index)
    assert len(tokens.token(123_456, 2)) == 16  # three bytes of id, one of link, eight of signature


def test_a_forged_token_reads_as_nothing() -> None:
    tokens, theirs = LinkTokens(SECRET), LinkTokens("another-secret")
    assert tokens.read(theirs.token(42, 0)) is None  # signed with another secret
    token = tokens.token(42, 0)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for at in range(len(raw)):  # every byte altered in turn: the id, the link, the signature
        forged = raw.copy()
        forged[at] ^= 0x01
        assert tokens.read(base64.urlsafe_b64encode(bytes(forged)).rstrip(b"=").decode()) is None, at


def test_another_deliverys_or_links_token_is_not_made_from_this_one() -> None:
    tokens = LinkTokens(SECRET)
    mine = base64.urlsafe_b64decode(tokens.token(42, 0) + "==")
    # the signature of delivery 42 put on delivery 43, or on link 1 of 42: refused
    for body in (bytes([43, 0]), bytes([42, 1]), bytes([0, 42, 0])):
        spliced = base64.urlsafe_b64encode(body + mine[-8:]).rstrip(b"=").decode()
        assert tokens.read(spliced) is None, body
    assert tokens.token(42, 0) != tokens.token(43, 0) != tokens.token(42, 1)


def test_a_cut_short_or_padded_or_odd_token_reads_as_nothing() -> None:
    tokens = LinkTokens(SECRET)
    token = tokens.token(987_654, 2)
    for bad in (token[:-1], token[:-4], token[1:], token + "A", token + "=", token + "==", "", "-", "a" * 41,
                token.replace(token[-1], "+"), token + "/", "../../etc/passwd", "%00", "é" * 16):  # fmt: skip
        assert tokens.read(bad) is None, bad
    # the same bytes spelled with the unused trailing bits set (13 bytes in 18 characters leave 4): not our spelling
    token = tokens.token(2**30, 2)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    odd = token[:-1] + alphabet[alphabet.index(token[-1]) + 1]
    assert base64.urlsafe_b64decode(odd + "==") == base64.urlsafe_b64decode(token + "==")
    assert tokens.read(token) == (2**30, 2) and tokens.read(odd) is None


def test_no_token_without_a_secret_or_for_an_impossible_link() -> None:
    with pytest.raises(ValueError):
        LinkTokens("")
    tokens = LinkTokens(SECRET)
    for delivery_id, index in ((0, 0), (-1, 0), (1, -1), (1, MAX_LINKS), (2**63, 0)):
        with pytest.raises(ValueError):
            tokens.token(delivery_id, index)
    assert SECRET not in repr(tokens) and SECRET not in repr(TrackedLinks(tokens, BASE))


def test_the_links_of_a_message_buttons_first_each_once_without_the_sentence_around_them() -> None:
    text = (
        "New shoes (see https://shop.example/p/RUN-1?code=SPRING20). Also https://shop.example/wiki/Shoe_(sport),"
        " http://shop.example/a and https://shop.example/p/RUN-1?code=SPRING20! Not links: ftp://x, www.x.com,"
        " https:// and mailto:a@b.c"
    )
    buttons = [Button("Shop", url="https://shop.example/sale"), Button("Not now", action="snooze"),
               Button("App", url="tg://resolve?domain=shop"), Button("Again", url="http://shop.example/a")]  # fmt: skip
    assert [url for _, _, url in text_links(text)] == [
        "https://shop.example/p/RUN-1?code=SPRING20",
        "https://shop.example/wiki/Shoe_(sport)",
        "http://shop.example/a",
        "https://shop.example/p/RUN-1?code=SPRING20",
    ]
    assert links(text, buttons) == [
        "https://shop.example/sale",
        "http://shop.example/a",
        "https://shop.example/p/RUN-1?code=SPRING20",
        "https://shop.example/wiki/Shoe_(sport)",
    ]


def test_the_rewrite_tracks_every_link_the_same_way_every_time() -> None:
    tracked = TrackedLinks(LinkTokens(SECRET), BASE + "/")
    text = "Hi Ann! https://shop.example/p/1 and again https://shop.example/p/1, or https://shop.example/p/2."
    buttons = (Button("Shop", url="https://shop.example/p/2"), Button("Not now", action="snooze"))
    out, pressed = tracked.rewrite(7, text, buttons)
    first, second = tracked.url(7, 1), tracked.url(7, 0)  # the button's link is link 0
    assert first.startswith(BASE + "/l/") and "//l/" not in first
    assert out == f"Hi Ann! {first} and again {first}, or {second}."
    assert pressed == (Button("Shop", url=second), Button("Not now", action="snooze"))
    assert tracked.rewrite(7, text, buttons) == (out, pressed)  # a retry goes out the same
    assert tracked.rewrite(8, text, buttons)[0] != out  # another delivery: other tokens
    assert "Ann" not in out.replace("Hi Ann!", "") and "shop.example/p" not in out  # no address, nobody's name
    assert tracked.rewrite(7, "No links here.", ()) == ("No links here.", ())

"""Deep-link tokens: they round-trip, fit Telegram's /start payload, and refuse forgery, other keys and age."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from bots.inbound.links import MAX_EXTERNAL_ID_BYTES, make_token, read_token

SECRET = "s3cret"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TELEGRAM_START = re.compile(r"[A-Za-z0-9_-]{1,64}")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_a_token_names_the_customer_it_was_made_for() -> None:
    for external_id in ("C1", "cust-000123", "ümlaut-ß", "x" * MAX_EXTERNAL_ID_BYTES):
        token = make_token(external_id, SECRET, now=NOW)
        assert read_token(token, SECRET, now=NOW + timedelta(days=1)) == external_id


def test_tokens_fit_telegrams_start_payload() -> None:
    for n in range(1, MAX_EXTERNAL_ID_BYTES + 1):
        token = make_token("7" * n, SECRET, now=NOW)
        assert TELEGRAM_START.fullmatch(token), token
    assert MAX_EXTERNAL_ID_BYTES >= 24


def test_an_external_id_too_long_for_a_token_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"33 bytes.*at most 32.*64 characters"):
        make_token("x" * 33, SECRET, now=NOW)
    with pytest.raises(ValueError, match="at most"):
        make_token("é" * 17, SECRET, now=NOW)  # 34 bytes in UTF-8
    with pytest.raises(ValueError, match="empty"):
        make_token("", SECRET, now=NOW)
    with pytest.raises(ValueError, match="secret"):
        make_token("C1", "", now=NOW)


def test_a_tampered_token_is_refused() -> None:
    token = make_token("C1", SECRET, now=NOW)
    for i, char in enumerate(token):
        for shift in (1, 32):
            forged = token[:i] + ALPHABET[(ALPHABET.index(char) + shift) % 64] + token[i + 1 :]
            assert read_token(forged, SECRET, now=NOW) is None, (i, forged)
    assert read_token(token[:-1], SECRET, now=NOW) is None and read_token(token + "A", SECRET, now=NOW) is None


def test_a_token_for_someone_else_cannot_be_made_by_editing_one() -> None:
    raw = bytearray(base64.urlsafe_b64decode(make_token("C1", SECRET, now=NOW) + "=="))
    raw[4:6] = b"C2"
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert read_token(forged, SECRET, now=NOW) is None


def test_another_secret_reads_nothing() -> None:
    assert read_token(make_token("C1", SECRET, now=NOW), "other", now=NOW) is None


def test_tokens_expire() -> None:
    token = make_token("C1", SECRET, now=NOW)
    assert read_token(token, SECRET, now=NOW + timedelta(days=29, hours=23)) == "C1"
    assert read_token(token, SECRET, now=NOW + timedelta(days=30, minutes=2)) is None
    assert read_token(token, SECRET, now=NOW + timedelta(hours=2), max_age=timedelta(hours=1)) is None


def test_tokens_from_the_future_are_refused_beyond_a_little_clock_skew() -> None:
    token = make_token("C1", SECRET, now=NOW)
    assert read_token(token, SECRET, now=NOW - timedelta(minutes=2)) == "C1"
    assert read_token(token, SECRET, now=NOW - timedelta(hours=1)) is None


@pytest.mark.parametrize(
    "token", ["", "a", "abc", "=" * 8, "a+b/c", "x" * 65, "token with spaces", "é", "AAAA\n", "A" * 22, "AAAAA"]
)
def test_malformed_tokens_read_as_nothing(token: str) -> None:
    assert read_token(token, SECRET, now=NOW) is None


def test_a_token_has_one_spelling() -> None:
    token = make_token("C12", SECRET, now=NOW)  # 19 bytes: 26 characters, the last one carries 4 spare bits
    variant = token[:-1] + ALPHABET[ALPHABET.index(token[-1]) ^ 1]  # decodes to the same bytes
    assert read_token(token, SECRET, now=NOW) == "C12"
    assert read_token(variant, SECRET, now=NOW) is None

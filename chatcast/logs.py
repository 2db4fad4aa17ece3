"""Logging set-up with a filter that keeps secrets out of every record."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

MASK = "[redacted]"
# what every record has; any other attribute came from the call's ``extra=``
STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The fields the logging call passed with ``extra=``."""
    return {key: value for key, value in vars(record).items() if key not in STANDARD and not key.startswith("_")}


class SecretRedactor(logging.Filter):
    """Replaces every known secret in a record's message and arguments with ``[redacted]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Return ``text`` with all secrets masked."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            record.msg = self.redact(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self.redact(record.exc_text)
            for key, value in extras(record).items():
                setattr(record, key, self._scrub(value))
        return True

    def _scrub(self, value: Any) -> Any:
        """``value`` with every secret masked in its text, inside lists and dicts too."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [self._scrub(v) for v in value]
        return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the exception if any, and the
    fields passed with ``extra=`` (which never replace those; a value JSON cannot hold is written as its text)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        for key, value in extras(record).items():
            entry.setdefault(key, value)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the moment (a test runner swaps it, and closes the old one)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(secrets: Iterable[str], *, level: int = logging.INFO, json_lines: bool = False) -> SecretRedactor:
    """Install one stderr handler whose output never contains ``secrets`` (``json_lines``: one JSON object each)."""
    redactor = SecretRedactor(secrets)
    handler = _Stderr()
    formatter = JsonFormatter() if json_lines else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_chatcast", False):
            root.removeHandler(old)
    handler._chatcast = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return redactor

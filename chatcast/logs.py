"""Logging set-up with a filter that keeps secrets out of every record."""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "[redacted]"


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
        return True


def configure_logging(secrets: Iterable[str], *, level: int = logging.INFO) -> SecretRedactor:
    """Install one stderr handler whose output never contains ``secrets``."""
    redactor = SecretRedactor(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_chatcast", False):
            root.removeHandler(old)
    handler._chatcast = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return redactor

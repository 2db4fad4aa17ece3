"""The root of every error Chatcast raises on purpose: an entry point catches :class:`ChatcastError` and tells
the person one clear line; anything else is a bug, shown with its type (and its traceback with ``--debug``)."""

from __future__ import annotations


class ChatcastError(Exception):
    """An error of ours: its message says what went wrong and, where it can, what to do about it."""

"""How the CLI talks to people: one clear line per error, tracebacks only with ``--debug``.

Light to import (typer, rich and the root error class): every command imports it, and ``chatcast --help`` must
not pay for the engine, the ORM or the channel SDKs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from storage.errors import ChatcastError  # one class, importing nothing: light enough for --help

if TYPE_CHECKING:
    from chatcast.logs import SecretRedactor
    from chatcast.settings import Settings

T = TypeVar("T")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class UserError(ChatcastError):
    """A mistake the person at the keyboard can fix; printed as one line, no traceback."""


# ours say what went wrong in their message; a file or network error's message does too
USER_ERRORS = (ChatcastError, OSError)


@dataclass
class State:
    """What the root command hands to every sub-command through ``ctx.obj``."""

    debug: bool = False
    env_file: str | None = ".env"
    _settings: Settings | None = field(default=None, repr=False)
    redactor: SecretRedactor | None = None

    @property
    def settings(self) -> Settings:
        """Settings read once, on first use, from the environment and the ``.env`` file (and the demo's shop files,
        where yours are neither set nor present and the database is the demo's)."""
        if self._settings is None:
            from pydantic import ValidationError

            from chatcast.demo_database import with_demo_files
            from chatcast.logs import configure_logging
            from chatcast.settings import Settings

            try:
                self._settings = with_demo_files(Settings(_env_file=self.env_file))
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                name = "CHATCAST_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
                fail(f"configuration error: {name}: {first['msg'].removeprefix('Value error, ')}", code=2)
            self.redactor = configure_logging(
                self._settings.secret_values(), level=logging.DEBUG if self.debug else logging.WARNING
            )
        return self._settings


def state(ctx: typer.Context) -> State:
    """The ``State`` of the running command."""
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = ctx.find_root().obj = State()
    return obj


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def run(ctx: typer.Context, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion; turn any failure into one line on stderr unless ``--debug``."""
    st = state(ctx)
    try:
        return asyncio.run(coro)
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except Exception as exc:
        if st.debug:
            raise
        known = isinstance(exc, USER_ERRORS)
        text = str(exc) if known else f"{type(exc).__name__}: {exc}"
        if st.redactor is not None:
            text = st.redactor.redact(text)
        hint = "" if known else " (run with --debug for the traceback)"
        fail(text + hint)

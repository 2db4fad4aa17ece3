"""How the CLI talks to people: one clear line per error, tracebacks only with ``--debug``.

Light to import (typer and rich only): every command imports it, and ``chatcast --help`` must not pay for the
engine, the ORM or the channel SDKs.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from chatcast.logs import SecretRedactor
    from chatcast.settings import Settings

T = TypeVar("T")
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class UserError(Exception):
    """A mistake the person at the keyboard can fix; printed as one line, no traceback."""


# The other errors a person can fix, by the module that defines each. They are looked up in sys.modules when a
# command fails rather than imported here: an error whose module was never imported cannot have been raised.
USER_ERRORS = {
    "storage.importers.sources": ("SourceError",),
    "storage.importers.runner": ("ImportAborted",),
    "campaigns.audience.planner": ("PlanError",),
    "campaigns.launch": ("CampaignStateError",),
    "campaigns.file.loader": ("CampaignError",),
}


def user_errors() -> tuple[type[BaseException], ...]:
    """The error types printed as one line without a hint: ``UserError``, ``OSError`` and those of ``USER_ERRORS``
    whose modules are loaded."""
    found: list[type[BaseException]] = [UserError, OSError]
    for module, names in USER_ERRORS.items():
        if (loaded := sys.modules.get(module)) is not None:
            found += [getattr(loaded, name) for name in names]
    return tuple(found)


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
                self._settings = with_demo_files(Settings(_env_file=self.env_file))  # type: ignore[call-arg]
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
        known = isinstance(exc, user_errors())
        text = str(exc) if known else f"{type(exc).__name__}: {exc}"
        if st.redactor is not None:
            text = st.redactor.redact(text)
        hint = "" if known else " (run with --debug for the traceback)"
        fail(text + hint)

"""``chatcast sandbox``: the loopback platform servers, standalone, for development, demos and benchmarks.

Each registered channel brings its own command (``bots/<channel>/sandbox/command.py``, its options that
function's parameters); the group looks the channels up only when it is used, so ``chatcast --help`` loads no
channel, and runs what the command returns.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from chatcast.console import out, run

if TYPE_CHECKING:
    from bots.spec import SandboxCommand


def _command(serve: SandboxCommand) -> Callable[..., None]:
    """A typer command with ``serve``'s options: it prints what ``serve`` says and runs its server."""

    def command(ctx: typer.Context, **options: Any) -> None:
        note, server = serve(**options)
        out.print(escape(note), soft_wrap=True)
        run(ctx, server)

    hints = typing.get_type_hints(serve, include_extras=True)
    params = [p.replace(annotation=hints[p.name]) for p in inspect.signature(serve).parameters.values()]
    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    command.__signature__ = inspect.Signature([context, *params], return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {"ctx": typer.Context, **{p.name: p.annotation for p in params}, "return": None}
    command.__doc__ = serve.__doc__
    return command


class ChannelSandboxes(TyperGroup):
    """The group's commands: one per registered channel, built when asked for."""

    def list_commands(self, ctx: Any) -> list[str]:  # ctx: the click context (typer vendors click)
        """The channels' names, in the registry's order."""
        from bots.registry import names

        return names()

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The channel's sandbox command, or None for a name no channel has."""
        from bots.registry import CHANNELS

        spec = next((spec for spec in CHANNELS if spec.name == cmd_name), None)
        if spec is None:
            return None
        one = typer.Typer(rich_markup_mode="rich")
        one.command(spec.name)(_command(spec.sandbox_command()))
        return typer.main.get_command(one)


sandbox_app = typer.Typer(
    cls=ChannelSandboxes, help="Loopback servers that play each channel's API, for development and tests."
)

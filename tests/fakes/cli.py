"""``chatcast`` as a person types it, run in-process by typer's CliRunner."""

from __future__ import annotations

from typer.testing import CliRunner

from chatcast.cli import app


class Cli:
    """The ``chatcast`` command line, in the current working folder and environment."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, stdin: str | None = None) -> tuple[int, str]:
        """Run ``chatcast ARGS`` (``stdin`` typed at its prompts); its exit status and everything it printed, which
        is never a traceback."""
        result = self.runner.invoke(app, list(args), input=stdin)
        assert "Traceback" not in result.output, result.output
        return result.exit_code, result.output

    def ok(self, *args: str, stdin: str | None = None) -> str:
        """Run ``chatcast ARGS``, which must succeed; what it printed."""
        code, output = self(*args, stdin=stdin)
        assert code == 0, f"chatcast {' '.join(args)} exited {code}:\n{output}"
        return output


invoke = Cli()  # invoke("db", "upgrade") -> (exit status, output); invoke.ok(...) -> output

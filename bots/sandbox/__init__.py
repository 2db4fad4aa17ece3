"""Loopback servers that play the channels' APIs for the demo, the tests and the benchmarks."""

from bots.sandbox.telegram import SandboxMessage, TelegramSandbox, serve

__all__ = ["SandboxMessage", "TelegramSandbox", "serve"]

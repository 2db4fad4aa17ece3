"""Loopback servers that play the channels' APIs for the demo, the tests and the benchmarks."""

from bots.sandbox.slack import SlackMessage, SlackSandbox, serve_slack
from bots.sandbox.telegram import SandboxMessage, TelegramSandbox, serve

__all__ = ["SandboxMessage", "SlackMessage", "SlackSandbox", "TelegramSandbox", "serve", "serve_slack"]

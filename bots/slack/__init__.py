"""The Slack channel: a slack_sdk/slack-bolt adapter (Block Kit sending, errors, events and App Home), its
sandbox, and its declaration for the registry (:mod:`bots.slack.spec`)."""

NAME = "slack"  # the engine's name for the channel, declared once

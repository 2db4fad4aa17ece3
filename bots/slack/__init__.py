"""The Slack channel: a slack_sdk/slack-bolt adapter (Block Kit sending, errors, events and App Home)."""

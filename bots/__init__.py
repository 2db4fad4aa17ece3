"""Channel adapters (Telegram, Slack) and their loopback sandboxes; the only home of the channel SDKs."""

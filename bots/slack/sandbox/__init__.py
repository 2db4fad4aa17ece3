"""A loopback Slack Web API server (:mod:`bots.slack.sandbox.server`) for the demo, the tests and the
benchmarks: it validates every call and its Block Kit, answers like Slack and plays the users."""

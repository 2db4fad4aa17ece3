"""A loopback Telegram Bot API server (:mod:`bots.telegram.sandbox.server`) for the demo, the tests and the
benchmarks: it validates every request, answers like Telegram and plays the customers."""

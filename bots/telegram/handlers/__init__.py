"""The bot's features, one router each, joined in ``build_dispatcher``."""

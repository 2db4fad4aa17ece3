"""Chatcast: a multichannel messaging marketing agent for e-commerce shops."""

__version__ = "0.1.0"

"""The conversational shop assistant: tools over catalog, orders and policies; sentiment."""

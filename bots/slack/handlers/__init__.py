"""The app's listeners, one module per feature; each has ``register(app, inbound)``."""

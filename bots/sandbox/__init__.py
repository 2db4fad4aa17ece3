"""What the channels' loopback sandboxes share. Each channel keeps its own sandbox in its folder
(``bots/<channel>/sandbox/``), found through :mod:`bots.registry`; this package holds only what is the same for
every one of them.
"""

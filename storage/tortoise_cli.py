"""The configuration tortoise's own CLI needs to write migrations: ``python -m tortoise -c
storage.tortoise_cli.TORTOISE_ORM makemigrations``. Only that developer tool imports this module."""

from __future__ import annotations

import os

from storage.db import tortoise_config

TORTOISE_ORM = tortoise_config(os.environ.get("CHATCAST_DATABASE_URL", "sqlite://data/chatcast.sqlite3"))

"""A lease: which one of several processes does a singleton's work (the scheduler).

On PostgreSQL it is a session advisory lock held on a connection of the lease's own: the holder keeps it
while that connection lives, and when the process dies its connection closes and the lock is free for the
next process that asks (within one of their polls). SQLite serves one process, which always holds it.
"""

from __future__ import annotations

import contextlib
import hashlib

import asyncpg


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Lease:
    """Try to hold the lease named ``name`` for the database at ``url``."""

    def __init__(self, url: str, name: str = "chatcast-scheduler") -> None:
        self.url, self.name, self.key = url, name, lock_key(name)
        self.postgres = url.startswith(("postgres://", "postgresql://", "asyncpg://"))
        self._conn: asyncpg.Connection | None = None
        self.held = False

    async def try_acquire(self) -> bool:
        """Take the lease if it is free (or already ours); whether we hold it now."""
        if not self.postgres:
            self.held = True
            return True
        if self.held and await self.alive():
            return True
        await self._drop()
        dsn = self.url.replace("asyncpg://", "postgresql://", 1)
        self._conn = await asyncpg.connect(dsn)
        self.held = bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key))
        if not self.held:
            await self._drop()
        return self.held

    async def alive(self) -> bool:
        """Whether the lease is still ours (its connection answers)."""
        if not self.postgres:
            return self.held
        if self._conn is None or self._conn.is_closed():
            self.held = False
            return False
        try:
            await self._conn.fetchval("SELECT 1")
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
            self.held = False
            return False
        return True

    async def release(self) -> None:
        """Give the lease up."""
        if self._conn is not None and not self._conn.is_closed() and self.held:
            with contextlib.suppress(asyncpg.PostgresError, OSError, asyncpg.InterfaceError):
                await self._conn.fetchval("SELECT pg_advisory_unlock($1)", self.key)
        self.held = False
        await self._drop()

    async def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        self._conn = None

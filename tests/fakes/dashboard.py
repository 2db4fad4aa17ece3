"""The staff dashboard on loopback, and logging in to it."""

from __future__ import annotations

import base64

from aiohttp import web

from chatcast.dashboard import add_dashboard


def login(user: str, password: str) -> dict[str, str]:
    """The headers of a request that logs in by basic auth."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def serve(password: str | None) -> tuple[web.AppRunner, str]:
    """The dashboard alone on 127.0.0.1 for user ``staff`` (none without a password); its runner and root URL."""
    app = web.Application()
    add_dashboard(app, "staff", password)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"

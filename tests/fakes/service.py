"""``chatcast serve``'s service for tests: a free loopback port, settings that point at a database and the
Telegram sandbox, the service started in the test's loop (``start``) or in a thread of its own (``serving``)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.delivery.dispatcher import DispatchStats
from chatcast.serve import ServiceState, run_service
from chatcast.settings import Settings
from tests.fakes.dispatch_worker import TOKEN


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def settings_for(database: str, telegram: TelegramSandbox, tmp_path: Path, **extra: object) -> Settings:
    """Settings for the database and the Telegram sandbox only (no settings file, data in ``tmp_path``)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url=database,
        telegram_bot_token=TOKEN,
        telegram_api_url=telegram.base_url,
        **extra,
    )


async def start(
    settings: Settings, **options: object
) -> tuple[ServiceState, asyncio.Event, asyncio.Task[DispatchStats]]:
    """The service, running; its state once ready, the stop event and the task."""
    stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
    on_ready: Callable[[ServiceState], None] = ready.set_result
    task = asyncio.create_task(
        run_service(settings, host="127.0.0.1", stop=stop, worker="serve-test", ready=on_ready, **options)  # type: ignore[arg-type]
    )
    done, _ = await asyncio.wait({task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises what stopped it
    assert ready in done, "the service did not become ready"
    return ready.result(), stop, task


@contextmanager
def serving(*, webhook: bool = False, port: int | None = None) -> Iterator[ServiceState]:
    """``chatcast serve`` with the environment's settings, on ``port`` (default: a free loopback port), until the
    block ends; with ``webhook``, as ``chatcast serve --public-url`` at that port (Telegram's updates come to its
    webhook). A port given is the one ``CHATCAST_PUBLIC_URL`` names, for the tracked links sent before serve runs."""
    ready, box = threading.Event(), {}
    port = port if port is not None else free_port() if webhook else 0
    public_url = f"http://127.0.0.1:{port}" if webhook else None

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"], box["loop"] = stop, asyncio.get_running_loop()

        def up(state: ServiceState) -> None:
            box["state"] = state
            ready.set()

        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        await run_service(
            settings, host="127.0.0.1", port=port, stop=stop, worker="journey", ready=up, public_url=public_url
        )

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=target, name="serve", daemon=True)
    thread.start()
    ready.wait(60)
    if "error" in box:
        raise box["error"]
    try:
        yield box["state"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(60)
        if "error" in box:
            raise box["error"]

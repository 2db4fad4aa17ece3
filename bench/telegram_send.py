"""Telegram send throughput: ``TelegramChannel.send`` through aiogram to the Bot API sandbox, in another process.

    python bench/telegram_send.py                     # 20,000 sends, 64 in flight, to 10,000 chats
    python bench/telegram_send.py --sends 5000 --concurrency 32 --chats 1000
    python bench/telegram_send.py --spec telegram_bot_api_10.1.json   # the sandbox validates against the spec
    python bench/telegram_send.py --profile           # cProfile the adapter's timed sends (slows its run)
    python bench/telegram_send.py --stub-server 8099  # only run the bare aiohttp stub (used by the benchmark)

Three runs, each client in a child process of its own (so the peak memory printed is that process's maximum
resident set size) and each server in another process, started afresh (``chatcast sandbox telegram``, rate
limits off, without ``--spec`` unless given one: it still validates every call against aiogram's models):

* adapter: ``TelegramChannel.send`` of a short text with one action button (HTML escaping, parse_mode, an
  inline keyboard with packed callback data) to the sandbox;
* aiogram: the bare ``bot.send_message(chat_id, text)`` to the sandbox (what the adapter adds is the difference);
* stub: the bare ``bot.send_message`` to a tiny aiohttp app that answers every call with one fixed result
  (what aiogram and aiohttp cost by themselves on this machine).

Each run warms up first (not counted), then sends with a fixed pool of worker tasks to many distinct chats.
The CPU seconds of the client and of the server during the timed sends are printed too, to show which side
limits the rate. Target: the adapter sends >= 2,000 messages/s from one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import itertools
import json
import os
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/segments.py must not shadow the package
from results import record  # noqa: E402

TARGET = 2000.0
TOKEN = "123456:SANDBOX"
TEXT = "Spring sale: 20% off everything in the shop until Sunday. Tap below to see the offers & pick yours!"
FIRST_CHAT = 100_000_000
STUB_RESULT = b'{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"},"text":"x"}}'
RUNS = (("adapter", "sandbox"), ("aiogram", "sandbox"), ("aiogram", "stub"))


# --- the bare aiohttp stub (its own process: ``--stub-server PORT``) ---------------------------------------------


def run_stub(port: int) -> None:
    """Answer every ``/bot{token}/{method}`` with one fixed sendMessage result, until killed."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=STUB_RESULT, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", answer)
    print(f"aiohttp stub at http://127.0.0.1:{port}", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- the client (its own process: ``--client MODE --url URL``) ------------------------------------------------


async def drive(
    send: Callable[[int], Awaitable[object]], count: int, concurrency: int
) -> tuple[float, list[float], list[str]]:
    """``count`` sends by ``concurrency`` workers; the wall time, each success's latency and each error."""
    latencies: list[float] = []
    errors: list[str] = []
    numbers = itertools.count()

    async def worker() -> None:
        while (i := next(numbers)) < count:
            started = time.perf_counter()
            try:
                await send(i)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            else:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


def _sender(mode: str, url: str, token: str, chats: int) -> tuple[Any, Callable[[int], Awaitable[object]]]:
    """The bot and the send function of one mode: the adapter or the bare aiogram call."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    from bots.telegram.app import build_bot
    from bots.telegram.channel import TelegramChannel
    from campaigns.ports import Button, OutboundMessage

    if mode == "adapter":
        bot = build_bot(token, api_url=url)
        channel = TelegramChannel(bot)
        buttons = (Button("Buy", action="buy"),)

        def adapter_send(i: int) -> Awaitable[object]:
            address = str(FIRST_CHAT + i % chats)
            message = OutboundMessage(address=address, text=TEXT, buttons=buttons, campaign_id=1, step="s")
            return channel.send(message)

        return bot, adapter_send
    bare = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url), timeout=30.0))

    def aiogram_send(i: int) -> Awaitable[object]:
        return bare.send_message(FIRST_CHAT + i % chats, TEXT)

    return bare, aiogram_send


async def client(args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then time ``args.sends`` sends (under cProfile with ``--profile-to``); a JSON-ready report."""
    sends = args.sends
    bot, send = _sender(args.client, args.url, args.token, args.chats)
    profiler = cProfile.Profile() if args.profile_to else None
    try:
        _, _, warm_errors = await drive(lambda i: send(sends + i), args.warmup, args.concurrency)
        if warm_errors and len(warm_errors) == args.warmup:
            raise SystemExit(f"every warm-up send failed, e.g. {warm_errors[0]}")
        cpu = time.process_time()
        if profiler:
            profiler.enable()
        seconds, latencies, errors = await drive(send, sends, args.concurrency)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile_to)
        cpu = time.process_time() - cpu
    finally:
        await bot.session.close()
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "sends": sends,
        "seconds": seconds,
        "ok": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "p50": pick(0.50),
        "p95": pick(0.95),
        "cpu": cpu,
    }


def run_client(args: argparse.Namespace) -> None:
    """The child process's body: print the report as one JSON line."""
    sys.path.insert(0, str(ROOT))
    print(json.dumps(asyncio.run(client(args))), flush=True)


# --- the parent: servers, children, the table ---------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float | None:
    """A process's CPU time so far (user + system), from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(kind: str, spec: Path | None, log: Path) -> Iterator[tuple[str, int]]:
    """Start the sandbox or the stub in a process of its own; yield its base URL and pid; kill it at the end."""
    port = free_port()
    if kind == "sandbox":
        cli = [sys.executable, "-c", "from chatcast.cli import main; main()"]
        args = [*cli, "sandbox", "telegram", "--port", str(port), "--token", TOKEN]
        args += ["--spec", str(spec)] if spec else []
    else:
        args = [sys.executable, __file__, "--stub-server", str(port)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the {kind} exited ({proc.returncode}):\n{log.read_text(errors='replace')}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"the {kind} did not listen on port {port} within 30s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(mode: str, kind: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One run: a fresh server, one client child; its report with CPU seconds and peak memory added."""
    log = folder / f"{mode}-{kind}.log"
    with server(kind, args.spec, folder / f"{kind}-{mode}.server.log") as (url, pid):
        child = [sys.executable, __file__, "--client", mode, "--url", url, "--token", TOKEN]
        child += ["--sends", str(args.sends), "--concurrency", str(args.concurrency)]
        child += ["--chats", str(args.chats), "--warmup", str(args.warmup)]
        profile = folder / f"{mode}-{kind}.prof"
        if args.profile and mode == "adapter":
            child += ["--profile-to", str(profile)]
        before = cpu_seconds(pid)
        with open(log, "wb") as out:
            proc = subprocess.Popen(child, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
        after = cpu_seconds(pid)
    output = log.read_text(errors="replace")
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if status != 0 or not lines:
        raise SystemExit(f"the {mode} client failed:\n{output}")
    result: dict[str, Any] = json.loads(lines[-1])
    # the server's CPU over the whole child (start-up and warm-up included), so a little more than the timed part
    result["server_cpu"] = after - before if before is not None and after is not None else None
    result["peak"] = usage.ru_maxrss / 1024
    if args.profile and mode == "adapter":
        text = io.StringIO()
        stats = pstats.Stats(str(profile), stream=text)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(r"bots/|campaigns/", 15)
        result["profile"] = text.getvalue()
    return result


def main() -> None:
    """Run the adapter, aiogram on the sandbox and aiogram on the stub; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=20_000, help="timed sends per run")
    parser.add_argument("--concurrency", type=int, default=64, help="sends in flight")
    parser.add_argument("--chats", type=int, default=10_000, help="distinct chat ids the sends go to")
    parser.add_argument("--warmup", type=int, default=200, help="sends before the timing starts")
    parser.add_argument("--spec", type=Path, help="Bot API spec JSON for the sandbox to validate against")
    parser.add_argument("--profile", action="store_true", help="cProfile the adapter's timed sends")
    parser.add_argument("--stub-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=("adapter", "aiogram"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", default=TOKEN, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stub_server is not None:
        run_stub(args.stub_server)
    elif args.client:
        run_client(args)
    else:
        bench(args)


def bench(args: argparse.Namespace) -> None:
    """The benchmark proper: three runs, then the table."""
    if args.spec is not None:
        args.spec = args.spec.resolve()
        if not args.spec.is_file():
            raise SystemExit(f"{args.spec}: no such file")
    print(
        f"{args.sends:,} sends per run, {args.concurrency} in flight, to {args.chats:,} chats "
        f"({args.warmup} warm-up sends first); sandbox {'with --spec' if args.spec else 'without --spec'}; "
        f"{os.cpu_count()} CPUs"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-") as tmp:
        for mode, kind in RUNS:
            print(f"{mode} -> {kind} ...", flush=True)
            results.append((mode, kind, measure(mode, kind, args, Path(tmp))))
    print()
    header = f"{'client':<9} {'server':<8} {'sends':>7} {'seconds':>8} {'sends/s':>8} {'p50 ms':>7} {'p95 ms':>7}"
    print(f"{header} {'errors':>6} {'client CPU s':>12} {'server CPU s':>12} {'client peak MB':>14}")
    for mode, kind, r in results:
        server_cpu = f"{r['server_cpu']:>12.1f}" if r["server_cpu"] is not None else f"{'-':>12}"
        print(
            f"{mode:<9} {kind:<8} {r['sends']:>7,} {r['seconds']:>8.2f} {r['ok'] / r['seconds']:>8,.0f} "
            f"{r['p50']:>7.1f} {r['p95']:>7.1f} {r['errors']:>6,} {r['cpu']:>12.1f} {server_cpu} {r['peak']:>14.0f}"
        )
    for mode, kind, r in results:
        if r["first_error"]:
            print(f"{mode} -> {kind}: first error: {r['first_error']}")
    adapter = results[0][2]
    rate = adapter["ok"] / adapter["seconds"]
    verdict = "met" if rate >= TARGET and not adapter["errors"] else "NOT met"
    print(f"target: the adapter sends >= {TARGET:,.0f}/s from one process: {rate:,.0f}/s, {verdict}")
    record(
        "telegram send",
        "adapter to the sandbox, one process",
        round(rate),
        "msg/s",
        f">= {TARGET:,.0f}/s",
        rate >= TARGET,
    )
    if "profile" in adapter:
        print("(the adapter ran under cProfile: its figures above are slower than without --profile)")
        print()
        print(adapter["profile"])


if __name__ == "__main__":
    main()

"""Slack send throughput: ``SlackChannel.send`` through slack_sdk to the Web API sandbox, in another process.

    python bench/slack_send.py                     # 20,000 sends, 64 in flight, to 10,000 users
    python bench/slack_send.py --sends 5000 --concurrency 32 --users 1000
    python bench/slack_send.py --spec PATH/slack_web_openapi_v2.json   # spec-validated (Slack's OpenAPI v2)
    python bench/slack_send.py --no-session        # each call opens its own aiohttp session (slack_sdk's default)
    python bench/slack_send.py --profile           # cProfile the adapter's timed sends (slows its run)

Each client runs in a child process of its own (the peak memory printed is that process's maximum resident set
size) and each server in another process, started afresh: the sandbox (``SlackSandbox`` with one workspace and
``--users`` members, rate limits off, no faults, without ``--spec`` unless given one: it still checks every call
against the methods it implements and every message's Block Kit) or a bare aiohttp stub. The runs:

* adapter, new DM: ``SlackChannel.send`` of a short text with one action button to each user once: Block Kit
  with escaping and packed button values, ``conversations.open`` then ``chat.postMessage``;
* adapter: ``--sends`` more sends to the same users, their DM ids cached: one ``chat.postMessage`` each;
* slack_sdk: the bare ``client.chat_postMessage(channel=user_id, text=...)`` to the sandbox;
* adapter and slack_sdk -> stub: the same two clients against an aiohttp app answering one fixed result per
  method (what the adapter, slack_sdk and aiohttp cost by themselves on this machine, the server's work aside).

Every client shares one aiohttp session across its calls (``build_client(..., session=shared_session())``)
unless ``--no-session``. Each run warms up first (not counted), then sends with a fixed pool of worker tasks. The CPU
seconds of the client and the server are printed to show which side limits the rate. Target: the adapter
sends >= 1,000 messages/s from one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
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

TARGET = 1000.0
TEAM = "T0BENCH"
TOKEN = "xoxb-1-bench-sandbox"
TEXT = "Spring sale: 20% off everything in the shop until Sunday. Tap below to see the offers & pick yours!"
STUB_POSTED = b'{"ok":true,"channel":"D0STUB","ts":"1700000000.000100","message":{"type":"message","text":"x"}}'
STUB_OPENED = b'{"ok":true,"channel":{"id":"D0STUB"}}'
RUNS = (("adapter", "sandbox"), ("slack_sdk", "sandbox"), ("adapter", "stub"), ("slack_sdk", "stub"))


def user_id(n: int) -> str:
    """The id of the ``n``-th member of the bench workspace."""
    return f"U{n:09d}"


# --- the servers (each its own process: ``--sandbox-server PORT`` or ``--stub-server PORT``) ---------------------


def run_sandbox(port: int, users: int, spec: str | None) -> None:
    """The Slack sandbox with the bench workspace and its members, until killed."""
    sys.path.insert(0, str(ROOT))
    from bots.slack.sandbox.server import SlackSandbox

    async def serve() -> None:
        sandbox = SlackSandbox(spec=Path(spec) if spec else None)
        sandbox.add_team(TEAM, "Bench Shop", TOKEN)
        for n in range(users):
            sandbox.add_user(TEAM, user_id(n))
        print(f"Slack sandbox at {await sandbox.start('127.0.0.1', port)} with {users:,} users", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await sandbox.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def run_stub(port: int) -> None:
    """Answer every ``/api/{method}`` with a fixed conversations.open or chat.postMessage result, until killed."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        body = STUB_OPENED if request.match_info["method"] == "conversations.open" else STUB_POSTED
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/api/{method}", answer)
    print(f"aiohttp stub at http://127.0.0.1:{port}/api/", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- the client (its own process: ``--client MODE --url URL``) ------------------------------------------------


async def drive(
    send: Callable[[int], Awaitable[object]], numbers: range, concurrency: int
) -> tuple[float, list[float], list[str]]:
    """A send for each of ``numbers`` by ``concurrency`` workers; the wall time, each latency and each error."""
    latencies: list[float] = []
    errors: list[str] = []
    todo = iter(numbers)

    async def worker() -> None:
        for i in todo:
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


def report(sends: int, seconds: float, latencies: list[float], errors: list[str], cpu: float) -> dict[str, Any]:
    """One timed phase as a JSON-ready dict."""
    latencies = sorted(latencies)

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


async def client(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Warm up, then the timed phases of the mode (the adapter: new DMs, then cached ones); their reports."""
    from bots.slack.channel import SlackChannel, address, build_client, shared_session
    from campaigns.ports import Button, OutboundMessage

    session = None if args.no_session else shared_session(connections=args.concurrency)
    slack = build_client(TOKEN, base_url=args.url, session=session)
    users, warmup = args.users, args.warmup  # users [0, warmup) warm up; [warmup, users) are timed
    buttons = (Button("See the offers", action="buy"),)
    if args.client == "adapter":

        async def workspace(team_id: str) -> Any:
            return slack

        channel = SlackChannel(workspace)

        def send(i: int) -> Awaitable[object]:
            to = address(TEAM, user_id(i % users))
            return channel.send(OutboundMessage(to, TEXT, buttons, campaign_id=1, step="launch"))

        phases = [("adapter, new DM", range(warmup, users)), ("adapter", range(users, users + args.sends))]
    else:

        def send(i: int) -> Awaitable[object]:
            return slack.chat_postMessage(channel=user_id(i % users), text=TEXT)

        phases = [("slack_sdk", range(users, users + args.sends))]
    profiler = cProfile.Profile() if args.profile_to else None
    results = []
    try:
        _, _, warm_errors = await drive(send, range(warmup), args.concurrency)
        if warm_errors and len(warm_errors) == warmup:
            raise SystemExit(f"every warm-up send failed, e.g. {warm_errors[0]}")
        for name, numbers in phases:
            profile = profiler if name == "adapter" else None
            started = time.process_time()
            if profile:
                profile.enable()
            seconds, latencies, errors = await drive(send, numbers, args.concurrency)
            if profile:
                profile.disable()
                profile.dump_stats(args.profile_to)
            cpu = time.process_time() - started
            results.append({"phase": name} | report(len(numbers), seconds, latencies, errors, cpu))
    finally:
        if session:
            await session.close()
    return results


def run_client(args: argparse.Namespace) -> None:
    """The child process's body: print the reports as one JSON line."""
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
def server(kind: str, args: argparse.Namespace, log: Path) -> Iterator[tuple[str, int]]:
    """Start the sandbox or the stub in a process of its own; yield its base URL and pid; stop it at the end."""
    port = free_port()
    command = [sys.executable, __file__, f"--{kind}-server", str(port), "--users", str(args.users)]
    command += ["--spec", str(args.spec)] if args.spec and kind == "sandbox" else []
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the {kind} exited ({proc.returncode}):\n{log.read_text(errors='replace')}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"the {kind} did not listen on port {port} within 60s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/api/", proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(mode: str, kind: str, args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    """One run: a fresh server, one client child; its phases with server CPU seconds and peak memory added."""
    log = folder / f"{mode}-{kind}.log"
    with server(kind, args, folder / f"{kind}-{mode}.server.log") as (url, pid):
        child = [sys.executable, __file__, "--client", mode, "--url", url, "--sends", str(args.sends)]
        child += ["--concurrency", str(args.concurrency), "--users", str(args.users), "--warmup", str(args.warmup)]
        child += ["--no-session"] if args.no_session else []
        profile = folder / f"{mode}-{kind}.prof"
        if args.profile and mode == "adapter":
            child += ["--profile-to", str(profile)]
        before = cpu_seconds(pid)
        with open(log, "wb") as out:
            proc = subprocess.Popen(child, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
        after = cpu_seconds(pid)
    output = log.read_text(errors="replace")
    lines = [line for line in output.splitlines() if line.startswith("[")]
    if status != 0 or not lines:
        raise SystemExit(f"the {mode} client failed:\n{output}")
    results: list[dict[str, Any]] = json.loads(lines[-1])
    for result in results:
        result["server"] = kind
        result["peak"] = usage.ru_maxrss / 1024
    # the server's CPU over the whole child (start-up, warm-up and every phase), so more than one phase's
    results[-1]["server_cpu"] = after - before if before is not None and after is not None else None
    if args.profile and mode == "adapter":
        text = io.StringIO()
        stats = pstats.Stats(str(profile), stream=text)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(r"bots/|campaigns/", 15)
        results[-1]["profile"] = text.getvalue()
    return results


def table(results: list[dict[str, Any]]) -> None:
    """Print one row per timed phase."""
    header = f"{'client':<16} {'server':<8} {'sends':>7} {'seconds':>8} {'sends/s':>8} {'p50 ms':>7} {'p95 ms':>7}"
    print(f"{header} {'errors':>6} {'client CPU s':>12} {'server CPU s':>12} {'client peak MB':>14}")
    for r in results:
        server_cpu = r.get("server_cpu")
        shown = f"{server_cpu:>12.1f}" if server_cpu is not None else f"{'-':>12}"
        print(
            f"{r['phase']:<16} {r['server']:<8} {r['sends']:>7,} {r['seconds']:>8.2f} {r['ok'] / r['seconds']:>8,.0f} "
            f"{r['p50']:>7.1f} {r['p95']:>7.1f} {r['errors']:>6,} {r['cpu']:>12.1f} {shown} {r['peak']:>14.0f}"
        )


def bench(args: argparse.Namespace) -> None:
    """The benchmark proper: four runs, then the table and the verdict."""
    if args.spec is not None:
        args.spec = args.spec.resolve()
        if not args.spec.is_file():
            raise SystemExit(f"{args.spec}: no such file")
    if args.users <= args.warmup:
        raise SystemExit("--users must be more than --warmup (the warm-up has users of its own)")
    print(
        f"{args.sends:,} sends per run, {args.concurrency} in flight, to {args.users:,} users "
        f"({args.warmup} warm-up sends first); sandbox {'with --spec' if args.spec else 'without --spec'}, "
        f"rate limits off; {'a session per call' if args.no_session else 'one shared session'}; "
        f"{os.cpu_count()} CPUs"
    )
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-") as tmp:
        for mode, kind in RUNS:
            print(f"{mode} -> {kind} ...", flush=True)
            results += measure(mode, kind, args, Path(tmp))
    print()
    table(results)
    for r in results:
        if r["first_error"]:
            print(f"{r['phase']} -> {r['server']}: first error: {r['first_error']}")
    adapter = next(r for r in results if r["phase"] == "adapter" and r["server"] == "sandbox")
    rate = adapter["ok"] / adapter["seconds"]
    verdict = "met" if rate >= TARGET and not adapter["errors"] else "NOT met"
    print(f"target: the adapter sends >= {TARGET:,.0f}/s from one process (DMs cached): {rate:,.0f}/s, {verdict}")
    record(
        "slack send", "adapter to the sandbox, one process", round(rate), "msg/s", f">= {TARGET:,.0f}/s", rate >= TARGET
    )
    if "profile" in adapter:
        print("(the adapter ran under cProfile: its figures above are slower than without --profile)")
        print()
        print(adapter["profile"])


def main() -> None:
    """Run the adapter and bare slack_sdk on the sandbox and on the stub; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=20_000, help="timed sends per run (after the new-DM phase)")
    parser.add_argument("--concurrency", type=int, default=64, help="sends in flight")
    parser.add_argument("--users", type=int, default=10_000, help="members of the workspace the sends go to")
    parser.add_argument("--warmup", type=int, default=200, help="sends before the timing starts")
    parser.add_argument("--spec", type=Path, help="Web API OpenAPI spec JSON for the sandbox to validate against")
    parser.add_argument("--no-session", action="store_true", help="no shared aiohttp session (one per call)")
    parser.add_argument("--profile", action="store_true", help="cProfile the adapter's timed (cached) sends")
    parser.add_argument("--sandbox-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--stub-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=("adapter", "slack_sdk"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sandbox_server is not None:
        run_sandbox(args.sandbox_server, args.users, str(args.spec) if args.spec else None)
    elif args.stub_server is not None:
        run_stub(args.stub_server)
    elif args.client:
        run_client(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()

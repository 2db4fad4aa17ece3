"""Every benchmark of ``bench/`` in one run: one table (markdown and JSON) with each figure, its target, whether it
was met, and the machine it ran on.

    python bench/run.py                  # every benchmark at its full size (about half an hour on 2 cores)
    python bench/run.py --quick          # small sizes: a smoke run of every script in a few minutes
    python bench/run.py --only report,schedule --docs

Writes ``bench/results/latest.md`` and ``bench/results/latest.json``; ``--docs`` also puts the table in the
documentation's Performance page, ``docs/performance.md`` (between its ``bench:start`` and ``bench:end``
marks). Each script still prints its own details; a script that fails is reported in the table and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results"
# each benchmark: its full-size arguments and its quick ones
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "import": ([], ["--customers", "20000", "--orders", "60000"]),
    "segments": ([], ["--customers", "20000", "--orders", "60000"]),
    "plan": ([], ["--customers", "20000", "--orders", "60000"]),
    "dispatch": (["--backends", "sqlite,postgres"], ["--rows", "1000", "--limited-seconds", "5"]),
    "telegram_send": ([], ["--sends", "2000"]),
    "slack_send": ([], ["--sends", "2000"]),
    "schedule": ([], ["--sweep-rows", "50000", "--worker-rows", "1000"]),
    "report": ([], ["--rows", "50000", "--events", "15000"]),
    "send_time": ([], ["--customers", "50000", "--events", "500000"]),
}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "host": platform.node(), "system": f"{platform.system()} {platform.release()}", "cpus": os.cpu_count(),
        "python": platform.python_version(), "processor": platform.processor() or platform.machine(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
        if hasattr(os, "sysconf") else None,
    }  # fmt: skip


def run(name: str, args: list[str], results: Path) -> tuple[int, float]:
    """One benchmark script, its figures appended to ``results``; its exit status and seconds."""
    env = os.environ | {"CHATCAST_BENCH_RESULTS": str(results)}
    started = time.perf_counter()
    print(f"== {name} {' '.join(args)}", flush=True)
    code = subprocess.call([sys.executable, str(ROOT / "bench" / f"{name}.py"), *args], env=env, cwd=ROOT)
    return code, time.perf_counter() - started


def table(rows: list[dict[str, Any]], info: dict[str, Any], when: str, quick: bool) -> str:
    """The markdown table."""
    size = "quick sizes (--quick)" if quick else "full sizes"
    lines = [
        f"Measured {when} with `python bench/run.py{' --quick' if quick else ''}` ({size}) on {info['cpus']} CPUs"
        f" ({info['processor']}), {info['memory_gb']} GB, {info['system']}, Python {info['python']}.",
        "",
        "| benchmark | measure | result | target | met |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for r in rows:
        value = r["value"]
        if isinstance(value, float):
            shown = f"{value:,.3f}".rstrip("0").rstrip(".")
        else:
            shown = f"{value:,}" if isinstance(value, int) else str(value)
        met = {True: "yes", False: "**no**", None: ""}[r.get("met")]
        lines.append(f"| {r['benchmark']} | {r['measure']} | {shown} {r['unit']} | {r.get('target', '')} | {met} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run, collect, write."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: every script, in minutes")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmark names")
    parser.add_argument("--docs", action="store_true", help="also put the table in docs/performance.md")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-run-") as tmp:
        results = Path(tmp) / "results.jsonl"
        for name in names:
            full, quick = BENCHMARKS[name]
            code, seconds = run(name, quick if args.quick else full, results)
            if code != 0:
                rows.append({"benchmark": name, "measure": f"the script failed (exit {code})", "value": "-",
                             "unit": "", "target": "", "met": False})  # fmt: skip
            rows.append({"benchmark": name, "measure": "the script's whole run", "value": round(seconds),
                         "unit": "s", "target": "", "met": None})  # fmt: skip
        if results.is_file():
            found = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]
            order = {name: i for i, name in enumerate(names)}
            rows = sorted(found + rows, key=lambda r: order.get(r["benchmark"].replace(" ", "_"), len(order)))
    info, when = machine(), datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    OUT.mkdir(exist_ok=True)
    markdown = table(rows, info, when, args.quick)
    (OUT / "latest.md").write_text(markdown, encoding="utf-8")
    (OUT / "latest.json").write_text(
        json.dumps({"measured_at": when, "quick": args.quick, "machine": info, "figures": rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    print("\n" + markdown)
    missed = [r for r in rows if r.get("met") is False]
    print(f"{len(rows)} figures, {len(missed)} target(s) missed; written to {OUT / 'latest.md'}")
    if args.docs:
        page = ROOT / "docs" / "performance.md"
        text = page.read_text(encoding="utf-8")
        start, end = "<!-- bench:start -->", "<!-- bench:end -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            text = head + start + "\n" + markdown + end + rest.split(end, 1)[1]
            page.write_text(text, encoding="utf-8")
            print(f"{page.relative_to(ROOT)} updated")


if __name__ == "__main__":
    main()

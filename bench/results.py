"""A benchmark's figures, kept for ``bench/run.py``: each script calls :func:`record` beside what it prints; with
``CHATCAST_BENCH_RESULTS`` set (run.py sets it), every figure is appended to that file as one JSON line."""

from __future__ import annotations

import json
import os


def record(benchmark: str, measure: str, value: float, unit: str, target: str = "", met: bool | None = None) -> None:
    """Keep one figure: what was measured, its value and unit, the target and whether it was met."""
    path = os.environ.get("CHATCAST_BENCH_RESULTS")
    if not path:
        return
    line = {"benchmark": benchmark, "measure": measure, "value": value, "unit": unit, "target": target, "met": met}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")

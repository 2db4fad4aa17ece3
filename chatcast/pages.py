"""HTML pages, server-rendered with Jinja2 (autoescaped): the campaign report (also a self-contained file with
``chatcast report campaign --html``) and the dashboard's pages. Charts are drawn by Chart.js, shipped with the
package and inlined, so that a page needs no network and no build step."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from campaigns.results.report import Report, money_text

HERE = Path(__file__).resolve().parent
TEMPLATES, STATIC = HERE / "templates", HERE / "static"


@cache
def environment() -> Environment:
    """The page templates (HTML autoescaped)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = lambda v: "-" if v is None else f"{v:.1%}"
    env.filters["num"] = lambda v: f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"
    env.filters["points"] = lambda v: "-" if v is None else f"{v * 100:+.1f} pts"
    env.filters["money"] = money_text
    return env


@cache
def chart_js() -> Markup:
    """Chart.js, to inline in a page."""
    return Markup((STATIC / "chart.umd.min.js").read_text(encoding="utf-8").replace("</script", "<\\/script"))


def json_data(value: Any) -> Markup:
    """``value`` as JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, default=str).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def report_context(report: Report) -> dict[str, Any]:
    """What the report's template needs."""
    data = report.as_dict()
    f = report.total
    stages = [
        ("targeted", f.targeted),
        ("sent", f.sent),
        ("clicked", f.clicked),
        ("replied", f.replied),
        ("converted", f.converted),
    ]
    variants = list(report.variants.values())
    charts = {
        "funnel": {"labels": [s for s, _ in stages], "values": [n for _, n in stages]},
        "daily": {
            "labels": [d.day for d in report.daily],
            "sent": [d.sent for d in report.daily],
            "converted": [d.converted for d in report.daily],
        },
        "variants": {
            "labels": list(report.variants),
            "rates": [round((r.rate or 0) * 100, 2) for r in report.variants.values()],
            # floating bars from the low to the high end of each 95% interval
            "intervals": [[round((r.low or 0) * 100, 2), round((r.high or 0) * 100, 2)] for r in variants],
        },
        "personas": {
            "labels": list(report.by["persona"]),
            "sent": [g.sent for g in report.by["persona"].values()],
            "converted": [g.converted for g in report.by["persona"].values()],
        },
    }
    return {"report": report, "data": data, "charts": json_data(charts), "chart_js": chart_js()}


def render_report(report: Report) -> str:
    """The campaign report as one self-contained HTML page."""
    return environment().get_template("report.html").render(**report_context(report), standalone=True)

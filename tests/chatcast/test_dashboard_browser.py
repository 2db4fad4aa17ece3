"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright. Without the login a page
shows no data; with it, the campaigns overview shows a known scenario's rates per customer reached, revenue and
verdict, and leads to the campaign, whose funnel (customers and messages), revenue, charts (the variants with their
intervals) and lift carry the scenario's numbers. ``CHATCAST_SCREENSHOT=docs/dashboard.png`` keeps a screenshot
of the campaign page.

Skips, saying why, where Chromium or Playwright is missing, unless ``CHATCAST_TEST_REQUIRE_BROWSER=1`` (set by
``.ci/run``, which installs Chromium) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from chatcast.dashboard import add_dashboard
from tests.fakes.report_scenario import load_scenario

# read at import: the CLI tests' fixture clears CHATCAST_ variables before each test
CHROMIUM = os.environ.get("CHATCAST_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("CHATCAST_TEST_REQUIRE_BROWSER") == "1"
SCREENSHOT = os.environ.get("CHATCAST_SCREENSHOT")


def _browser_or_skip() -> Any:
    reason = ""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        reason = "needs playwright (pip install -e '.[test]')"
    if not reason and not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        reason = f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    if reason:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    return async_playwright


@pytest.fixture
async def site(database: str) -> AsyncIterator[str]:
    await load_scenario()
    app = web.Application()
    add_dashboard(app, "staff", "browser-pw")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_the_dashboard_in_chromium(site: str) -> None:
    async_playwright = _browser_or_skip()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            anonymous = await browser.new_page()
            with pytest.raises(Exception, match="ERR_INVALID_AUTH_CREDENTIALS"):  # the browser's login is refused
                await anonymous.goto(f"{site}/dashboard/campaigns/june")
            response = await anonymous.request.get(f"{site}/dashboard/campaigns/june")
            assert response.status == 401 and "June" not in await response.text()
            context = await browser.new_context(
                http_credentials={"username": "staff", "password": "browser-pw"},
                viewport={"width": 1280, "height": 900},
            )
            page = await context.new_page()
            await page.goto(f"{site}/dashboard")
            overview = await page.eval_on_selector_all(
                '#campaigns tr[data-key="june"] td', "cells => cells.map(c => c.innerText.trim())"
            )
            # rates per customer reached (18): 3 clicked, 3 bought, 1 opted out within the window; revenue in euros
            assert overview[1] == "running" and overview[3:8] == ["18", "16.7%", "16.7%", "5.6%", "EUR 180.00"]
            assert overview[10].startswith("window open until")  # a message of the first step is still to go
            await page.click("text=June")
            await page.wait_for_url("**/dashboard/campaigns/june")
            rows = {
                stage: await page.eval_on_selector_all(
                    f'#funnel tr[data-stage="{stage}"] td', "cells => cells.map(c => c.innerText.trim())"
                )
                for stage in ("assigned", "sent", "clicked", "converted", "holdout")
            }
            people = {stage: cells[1] for stage, cells in rows.items()}
            messages = {stage: cells[3] for stage, cells in rows.items()}
            assert people == {"assigned": "25", "sent": "18", "clicked": "3", "converted": "3", "holdout": "3"}
            assert messages == {"assigned": "29", "sent": "22", "clicked": "3", "converted": "3", "holdout": "3"}
            assert rows["converted"][2] == "16.7%"  # per customer reached
            assert "EUR 180.00" in await page.inner_text("#revenue")
            charts = await page.evaluate(
                "() => Object.fromEntries(Object.entries(window.chatcastCharts).map("
                "([k, c]) => [k, {data: c.data.datasets.map(d => d.data), drawn: c.canvas.width > 0 &&"
                " c.canvas.toDataURL().length > 3000}]))"
            )
            assert charts["funnel"]["data"] == [[32, 22, 3, 2, 3]]
            assert charts["daily"]["data"] == [[15, 3, 4], [0, 2, 1]]
            intervals, rates = charts["variants"]["data"]  # each variant's 95% interval as a bar, its rate as a point
            assert rates == [20.0, 12.5] and all(
                low < rate < high for (low, high), rate in zip(intervals, rates, strict=True)
            )
            assert all(chart["drawn"] for chart in charts.values())
            assert "window is open until 2027-05-11 02:00 UTC" in await page.inner_text("#window")
            verdicts = await page.eval_on_selector_all("#lift td.verdict", "cells => cells.map(c => c.innerText)")
            assert verdicts[:2] and all(v.startswith("window open until") for v in verdicts[:2])
            assert "Generated" in await page.inner_text("#generated")
            if SCREENSHOT:
                await page.screenshot(path=SCREENSHOT, full_page=True)
        finally:
            await browser.close()

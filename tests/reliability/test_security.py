"""Security: every door of a running ``serve`` refuses a caller without its secret; template injection in campaign
YAML is refused at validation with its line; SQL-ish and template strings in customers' names stay text; no
secret reaches the logs. (Forged and stale Slack signatures: tests/bots/slack/test_slack_e2e.py.)"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import aiohttp
import pytest
from ruamel.yaml import YAML

from campaigns.content.copy import Brief, Recipient, context, render
from campaigns.file.loader import CampaignError, parse_campaign
from storage.importers import import_file
from storage.models import Customer, Delivery
from tests.fakes.sandboxes import CountingSandbox
from tests.fakes.service import free_port, settings_for, start

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
SECRETS = {
    "telegram_webhook_secret": "tg-hook-S3CRET-value",
    "order_webhook_secret": "orders-S3CRET-value",
    "dashboard_password": "dash-S3CRET-value",
    "link_secret": "link-S3CRET-value",
    "openai_api_key": "sk-test-S3CRET-value",
}
INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{% for i in range(99999999) %}x{% endfor %}",
    "{{ 'a' * 999999999 }}",
    "{{ customer.__class__.__init__.__globals__ }}",
    "{{ 2 ** 100000 }}",
]
NAMES = ["{{ 7 * 7 }} Smith", "{% raw %}Ann", "Robert'); DROP TABLE customer;--", "<b>Bold</b> O'Hara", "${jndi:x}"]


async def test_every_door_refuses_a_caller_without_its_secret_and_no_secret_is_logged(
    database: str, telegram_sandbox: CountingSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    settings = settings_for(database, telegram_sandbox, tmp_path, **SECRETS)
    state, stop, task = await start(settings, port=port, public_url=f"http://127.0.0.1:{port}")
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    try:
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(f"{state.url}/telegram/webhook", json=update, headers=headers) as r:
                    assert r.status == 401
            for headers in ({}, {"X-Chatcast-Secret": "wrong"}):
                async with http.post(f"{state.url}/hooks/orders", json={"order_id": "X"}, headers=headers) as r:
                    assert r.status == 401
            for path in ("/dashboard", "/dashboard/campaigns/x", "/dashboard/conversations/1", "/metrics"):
                async with http.get(f"{state.url}{path}") as r:
                    assert r.status == 401, path
            async with http.get(f"{state.url}/health") as r:
                health = await r.text()
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    assert not await Customer.all().exists()  # nothing got in
    logged = caplog.text + health
    assert "serving on" in logged  # the logs were captured
    for name, value in SECRETS.items():
        assert value not in logged, f"{name} reached the logs"


@pytest.mark.parametrize("template", INJECTIONS)
def test_template_injection_in_campaign_yaml_is_refused_with_its_line(template: str) -> None:
    yaml = YAML(typ="safe")
    data = yaml.load((SHOP / "campaigns" / "winback.yaml").read_text(encoding="utf-8"))
    data["message"]["template"] = template + " {{ unsubscribe }}"
    out = io.StringIO()
    yaml.dump(data, out)
    with pytest.raises(CampaignError) as caught:
        parse_campaign(out.getvalue(), "winback.yaml")
    problem = caught.value.problems[0]
    assert problem.file == "winback.yaml" and problem.line > 1 and problem.path == "message.template"


async def test_sql_and_template_strings_in_names_stay_text(database: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    rows = "".join(f'C{n},"{name.replace(chr(34), chr(34) * 2)}",en\n' for n, name in enumerate(NAMES))
    path.write_text("external_id,name,language\n" + rows, encoding="utf-8")
    report = await import_file("customers", path)
    assert report.imported == len(NAMES) and report.bad == 0
    stored = dict(await Customer.all().values_list("external_id", "name"))
    assert [stored[f"C{n}"] for n in range(len(NAMES))] == NAMES  # stored as written; every table still there
    assert await Delivery.all().count() == 0
    brief = Brief("c", "main", "p", "", "", "A", "en", "b", "Hi {{ customer.name }}!", (), None, (), 4096)
    for name in NAMES:
        text = render(brief.template, context(brief, Recipient(1, name, "en", ()), "Reply STOP"))
        assert text == f"Hi {name}!"  # the name is data: never evaluated as a template

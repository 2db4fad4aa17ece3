"""The staff's pages on the ``serve`` process, under ``/dashboard``: read-only, server-rendered (Jinja2, escaped),
behind HTTP basic auth with ``CHATCAST_DASHBOARD_USER`` / ``CHATCAST_DASHBOARD_PASSWORD``; ``/metrics`` for
Prometheus behind the same login. Without a password none of it is served: nothing is open by default.

Pages: the campaigns with their progress and figures (rates per customer reached, revenue, lift), persona
sizes and the conversations waiting for a person (``/dashboard``); a campaign's funnel, charts, A/B and lift,
links, days, and its message per persona (``/dashboard/campaigns/KEY``, filtered by
``?from=2027-05-01&to=2027-05-31&channel=telegram&persona=vip``); one customer's conversation
(``/dashboard/conversations/ID``, where a hand-off's link points).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo

from aiohttp import web

from campaigns.delivery.metrics import Metrics
from campaigns.results.report import build, overview
from chatcast.pages import STATIC, environment, report_context
from storage import campaigns as campaign_rows
from storage import complaints, money, reports
from storage.conversations import transcript
from storage.reports import Scope

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_dashboard(
    app: web.Application,
    user: str,
    password: str | None,
    metrics: Metrics | None = None,
    *,
    zone: tzinfo = UTC,
    shop_currency: str = "USD",
) -> bool:
    """Serve the pages (and ``/metrics``) when a password is set; whether they are served. Reports count days in
    ``zone`` (the shop's) and convert revenue to ``shop_currency`` where the rates allow."""
    if not password:
        return False
    env = environment()

    def guarded(handler: Handler) -> Handler:
        async def check(request: web.Request) -> web.StreamResponse:
            if not _authorised(request.headers.get("Authorization", ""), user, password):
                return web.Response(
                    status=401, text="login required", headers={"WWW-Authenticate": 'Basic realm="Chatcast"'}
                )
            return await handler(request)

        return check

    async def conversation(request: web.Request) -> web.Response:
        raw = request.match_info["customer_id"]
        if not raw.isdigit() or len(raw) > 18:
            raise web.HTTPNotFound(text="no such customer")
        found = await transcript(int(raw))
        if found is None:
            raise web.HTTPNotFound(text="no such customer")
        customer, chat, messages = found
        complaint = await complaints.open_since(customer.id)
        html = env.get_template("conversation.html").render(
            complaint=f"{complaint:%Y-%m-%d %H:%M} UTC" if complaint else None,
            name=customer.name or customer.external_id,
            external_id=customer.external_id,
            channel=chat.channel if chat else None,
            holder="a person" if chat and chat.holder == "human" else "the assistant",
            reason=chat.handoff_reason if chat else None,
            summary=chat.summary if chat else "",
            messages=[
                {"role": m.role, "text": m.text, "at": f"{m.at:%Y-%m-%d %H:%M} UTC", "sentiment": m.sentiment}
                for m in messages
            ],
        )
        return _page(html)

    async def home(request: web.Request) -> web.Response:
        progress = {line.key: line for line in await reports.campaign_lines()}
        found = await overview(shop_currency=shop_currency, rates=await money.rates())
        html = env.get_template("dashboard.html").render(
            campaigns=[(s, progress.get(s.key)) for s in found],
            shop_currency=shop_currency,
            generated=datetime.now(UTC),
            personas=await reports.persona_sizes(),
            waiting=await reports.waiting_for_a_person(),
        )
        return _page(html)

    async def campaign(request: web.Request) -> web.Response:
        row = await campaign_rows.by_key(request.match_info["key"][:64])
        if row is None:
            raise web.HTTPNotFound(text="no such campaign")
        scope = _scope(request, zone)
        rates = await money.rates()
        report = await build(row, scope=scope, zone=zone, shop_currency=shop_currency, rates=rates)
        context = report_context(report) | {"previews": await reports.previews(int(row.id))}
        return _page(env.get_template("campaign.html").render(**context))

    async def chart_js(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "chart.umd.min.js", headers={"Cache-Control": "private, max-age=86400"})

    async def scrape(request: web.Request) -> web.Response:
        assert metrics is not None
        metrics.set_queue(await reports.queue_depths(datetime.now(UTC)))
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    app.router.add_get("/dashboard", guarded(home))
    app.router.add_get("/dashboard/", guarded(home))
    app.router.add_get("/dashboard/campaigns/{key}", guarded(campaign))
    app.router.add_get("/dashboard/conversations/{customer_id}", guarded(conversation))
    app.router.add_get("/dashboard/static/chart.umd.min.js", guarded(chart_js))
    if metrics is not None:
        app.router.add_get("/metrics", guarded(scrape))
    return True


def _scope(request: web.Request, zone: tzinfo) -> Scope:
    """The report's filters from the page's query: ``from`` and ``to`` (days, the shop's), ``channel``, ``persona``."""
    query = request.query

    def day(name: str) -> datetime | None:
        value = query.get(name, "")[:10]
        try:
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=zone) if value else None
        except ValueError:
            raise web.HTTPBadRequest(text=f"{name}: not a date like 2027-05-31") from None

    since, until = day("from"), day("to")
    channel, persona = query.get("channel", "")[:32], query.get("persona", "")[:64]
    return Scope(since, until + timedelta(days=1) if until else None, channel or None, persona or None)


def _page(html: str) -> web.Response:
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})


def _authorised(header: str, user: str, password: str) -> bool:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given_user, _, given_password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user_ok = hmac.compare_digest(given_user.encode(), user.encode())
    return hmac.compare_digest(given_password.encode(), password.encode()) and user_ok

"""The redirect of tracked links, on ``serve``'s web app (and the playground's): ``GET /l/<token>`` records the click
and answers 302 to the link's address; a token that is not ours gets a plain 404 page.

A platform fetching a link to show its preview (Slack's unfurls, Telegram's previews, the social sites' crawlers)
and any ``HEAD`` request get the same 302 but record nothing: they are no customer's click.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from aiohttp import web
from yarl import URL

from bots.registry import link_previewers
from campaigns.delivery.clicks import follow
from campaigns.delivery.links import PATH, LinkTokens, TrackedLinks
from chatcast.settings import Settings
from storage import clicks
from storage.db import DATABASE_DOWN

log = logging.getLogger(__name__)

# the link fetchers of sites and apps other than our channels (whose own come from the registry)
PREVIEWERS = (
    "facebookexternalhit", "Facebot", "Twitterbot", "WhatsApp", "Discordbot", "LinkedInBot", "SkypeUriPreview",
    "Googlebot", "bingbot", "Applebot", "redditbot", "Pinterestbot", "Iframely", "Embedly", "vkShare", "Mastodon",
)  # fmt: skip
NOT_FOUND = "This link is not valid: it may have been cut short or mistyped.\n"
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def previewer(words: Iterable[str]) -> Callable[[str], bool]:
    """Whether a User-Agent is one of the link fetchers named by ``words`` (case does not matter)."""
    pattern = re.compile("|".join(re.escape(w) for w in words if w), re.IGNORECASE)
    return lambda agent: bool(pattern.search(agent))


is_preview = previewer((*PREVIEWERS, *link_previewers()))


async def link_tokens(settings: Settings) -> LinkTokens:
    """The signer of tracked links: the shop's ``CHATCAST_LINK_SECRET``, else the secret kept in the database (made
    on first use), so that every process signs and reads alike. Needs the database open."""
    given = settings.link_secret.get_secret_value() if settings.link_secret is not None else ""
    return LinkTokens(given or await clicks.generated_secret())


async def tracked_links(settings: Settings) -> TrackedLinks | None:
    """How dispatchers rewrite campaign links under ``settings``: None when links are not tracked (no public address
    of ``serve``, or ``CHATCAST_TRACK_LINKS=false``). Needs the database open."""
    base = settings.link_base
    return TrackedLinks(await link_tokens(settings), base) if base else None


def add_link_routes(app: web.Application, tokens: LinkTokens, clock: Callable[[], datetime]) -> None:
    """``GET`` (and ``HEAD``) ``/l/<token>`` on ``app``: clicks recorded at ``clock``'s time."""

    async def redirect(request: web.Request) -> web.StreamResponse:
        preview = request.method == "HEAD" or is_preview(request.headers.get("User-Agent", ""))
        try:
            found = await follow(tokens, request.match_info["token"], at=clock(), preview=preview)
        except DATABASE_DOWN as exc:
            log.warning("tracked link: the database failed (%s)", type(exc).__name__)
            return web.Response(status=503, text="Please try again in a moment.\n", headers={"Retry-After": "5"})
        location = _location(found.url) if found is not None else None
        if location is None:
            return web.Response(status=404, text=NOT_FOUND, headers=_HEADERS)
        return web.Response(status=302, headers={"Location": location, **_HEADERS})

    app.router.add_get(PATH + "{token}", redirect)  # HEAD as well


def _location(url: str) -> str | None:
    """``url`` as a Location header carries it (non-ASCII percent-encoded); None where it cannot be one."""
    try:
        text = str(URL(url))
        text.encode("latin-1")
    except (ValueError, UnicodeError):
        return None
    return text

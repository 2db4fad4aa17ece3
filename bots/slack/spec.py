"""Slack, declared for :mod:`bots.registry`: everything the rest of Chatcast knows about the channel."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator

from bots.slack import NAME
from bots.slack.limits import LIMITS
from bots.slack.mrkdwn import plain
from bots.slack.settings import SlackSettings
from bots.spec import Address, ChannelSpec, ImportColumn, Rates, SandboxCommand, Wiring

if TYPE_CHECKING:
    from bots.sandbox.rig import RigWiring
    from bots.slack.receive import SlackReceiver
    from bots.slack.sandbox.rig import SlackRig

ROUTES = ("/slack/events", "/slack/install", "/slack/oauth_redirect")  # the last two with OAuth only
_USER = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+$")  # TEAM/USER, as people write it; the engine's address is TEAM:USER


def _rates(settings: SlackSettings) -> Rates:
    return Rates(per_chat=settings.slack_channel_rate_per_second)


def _user(text: str) -> str | None:
    return text.replace("/", ":") if text.count("/") == 1 else None


def _import_user(value: str) -> str:
    if not _USER.match(value):
        raise ValueError(f"{value!r} is not a Slack identity of the form TEAM/USER (e.g. T0123/U0456)")
    return value


@asynccontextmanager
async def _open(settings: SlackSettings, wiring: Wiring) -> AsyncIterator[SlackReceiver | None]:
    from bots.slack.receive import open_app  # slack_bolt: loaded only where the app is built

    async with open_app(settings, wiring) as app:
        yield app


@asynccontextmanager
async def _rig(wiring: RigWiring) -> AsyncIterator[SlackRig]:
    from bots.slack.sandbox.rig import open_rig

    async with open_rig(wiring) as rig:
        yield rig


def _sandbox_command() -> SandboxCommand:
    from bots.slack.sandbox.command import command

    return command


SPEC = ChannelSpec(
    name=NAME,
    title="Slack",
    settings=SlackSettings,
    limits=LIMITS,
    rates=_rates,
    address=Address(example="TEAM/USER", parse=_user),
    import_column=ImportColumn(
        column="slack_user",
        type=Annotated[str, AfterValidator(_import_user)],
        address=lambda value: value.replace("/", ":", 1),  # the file's TEAM/USER is the address TEAM:USER
    ),
    open=_open,
    rig=_rig,
    sandbox_command=_sandbox_command,
    routes=ROUTES,
    data_text=plain,
    # Slackbot-LinkExpanding (unfurls), Slack-ImgProxy (pictures), Slackbot (other fetches)
    link_previewers=("Slackbot", "Slack-ImgProxy"),
)

"""The channel registry: each channel's declared facts agree with the platforms' references and with what its
code does (the routes its receiver serves, the chats people write)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from aiohttp import web

from bots.inbound.acts import Inbound
from bots.registry import CHANNELS, find, names, text_limits, titles
from bots.slack.limits import BLOCKS_MAX, BUTTON_TEXT_MAX, SECTION_MAX, URL_MAX, VALUE_MAX
from bots.spec import Wiring
from bots.telegram.limits import CAPTION_MAX, DATA_MAX_BYTES
from chatcast.settings import Settings
from tests.fakes.environment import reference_file


def reference_limits(channel: str) -> dict[str, dict[str, Any]]:
    table = json.loads(reference_file("limits", "messaging_limits.json").read_text(encoding="utf-8"))
    return {entry["what"]: entry for entry in table[channel]["limits"]}


def test_telegrams_limits_are_the_bot_apis() -> None:
    spec, limits = find("telegram"), reference_limits("telegram")
    assert spec.limits.text_max == limits["sendMessage.text length"]["max"] == 4096
    assert spec.limits.caption_max == CAPTION_MAX == limits["media caption length (sendPhoto.caption etc.)"]["max"]
    assert spec.limits.button_data_max_bytes == DATA_MAX_BYTES == limits["InlineKeyboardButton.callback_data"]["max"]
    assert spec.limits.messages_per_second == limits["broadcast rate, all chats"]["max"]
    assert spec.limits.per_chat_per_second == limits["messages to one chat"]["max"]


def test_slacks_limits_are_block_kits_and_chat_post_messages() -> None:
    spec, limits = find("slack"), reference_limits("slack")
    assert spec.limits.text_max == limits["chat.postMessage text"]["max"] == 40_000  # one value, everywhere
    assert limits["section block text"]["max"] == SECTION_MAX
    assert limits["blocks per message"]["max"] == BLOCKS_MAX
    button = limits["button text / value / url"]
    assert (button["max_text"], button["max_value"], button["max_url"]) == (BUTTON_TEXT_MAX, VALUE_MAX, URL_MAX)
    assert spec.limits.button_data_max_bytes == VALUE_MAX


def test_the_registry_names_the_channels_in_order() -> None:
    assert names() == ["telegram", "slack"] and titles() == "Telegram and Slack"
    assert text_limits() == {"telegram": 4096, "slack": 40_000}
    with pytest.raises(KeyError):
        find("pigeon")


@pytest.mark.parametrize(
    ("channel", "written", "address"),
    [
        ("telegram", "123456789", "123456789"),
        ("telegram", "", None),
        ("slack", "T01/U02", "T01:U02"),
        ("slack", "T01U02", None),
        ("slack", "T01/U02/X", None),
    ],
)
def test_a_chat_as_people_write_it_becomes_the_engines_address(channel: str, written: str, address: str) -> None:
    assert find(channel).address.parse(written) == address


@pytest.fixture
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the arguments only, whatever the environment holds."""
    for name in [n for n in os.environ if n.startswith("CHATCAST_")]:
        monkeypatch.delenv(name)


class Workspaces:
    """A WorkspaceStore that keeps nothing."""

    async def save(self, channel: str, workspace: str, data: dict[str, Any]) -> None:
        """Forget at once."""

    async def load(self, channel: str, workspace: str) -> dict[str, Any] | None:
        """Nothing was saved."""
        return None

    async def delete(self, channel: str, workspace: str) -> None:
        """Nothing to forget."""


@pytest.mark.usefixtures("no_environment")
async def test_each_receiver_serves_only_the_routes_its_channel_declares() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token="123:TOKEN", telegram_webhook_secret="hook-secret",
        slack_signing_secret="signing", slack_client_id="1.2", slack_client_secret="client-secret",
    )  # fmt: skip
    wiring = Wiring(Inbound(None), Workspaces(), "the shop")
    served: dict[str, set[str]] = {}
    for spec in CHANNELS:
        async with spec.open(settings, wiring) as bot:
            assert bot is not None and bot.channel.name == spec.name and bot.channel.limits.text_max > 0
            app = web.Application()
            receiver = await bot.receive(app, public_url="https://shop.example.com", redis_url=None)
            served[spec.name] = {route.resource.canonical for route in app.router.routes() if route.resource}
            await receiver.stop()
        assert served[spec.name] == set(spec.routes), spec.name
    assert not set.intersection(*served.values())


@pytest.mark.usefixtures("no_environment")
async def test_a_channel_without_its_settings_is_not_opened() -> None:
    wiring = Wiring(Inbound(None), Workspaces(), "the shop")
    for spec in CHANNELS:
        async with spec.open(Settings(_env_file=None), wiring) as bot:  # type: ignore[call-arg]
            assert bot is None, spec.name

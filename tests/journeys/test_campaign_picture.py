"""A marketer gives a campaign a picture, from an empty database: ``validate`` names a picture that cannot go out by
file, line and field with how to fix it; ``preview`` shows the picture above the text; ``test-send`` sends it;
the launch brings it to a Telegram chat as a photo whose caption is the text's first 1,024 characters, the rest
following as a message with the buttons under it, and to a Slack DM as an image block with the picture's words as
its alt text. A variant gives its own picture, and a follow-up without one is plain text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.journeys.chats import TEAM, Chats

pytestmark = pytest.mark.slow

MORNING = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
PICTURE = "https://cdn.shop.example.com/img/spring-shoes.jpg"
BRIGHT = "https://cdn.shop.example.com/img/spring-bright.png"
ALT = "Three pairs of running shoes on a spring meadow"
SEGMENTS = "personas:\n  - {id: everyone, description: Everyone., tone: Friendly.}\n"
CUSTOMERS = (
    "external_id,name,language,timezone,opted_in_at,telegram_chat_id,slack_user\n"
    f"T1,Tia Moss,en,UTC,2027-01-01T00:00:00+00:00,6201,\n"
    f"S1,Sol Park,en,UTC,2027-01-01T00:00:00+00:00,,{TEAM}/U0SOL\n"
)
STORY = " ".join(f"Line {n:02}: our spring shoes are light, soft and ready for long runs." for n in range(1, 25))
CAMPAIGN = f"""\
id: spring-look
name: Spring look
channels: [telegram, slack]
message:
  brief: Show the new spring shoes.
  template: |
    Hi {{{{ customer.first_name }}}}! {STORY}
    {{{{ unsubscribe }}}}
  image:
    url: {PICTURE}
    alt: {ALT}
  buttons:
    - text: See the shoes
      url: https://shop.example.com/spring
    - text: Not now
      action: snooze
variants:
  - id: calm
  - id: bright
    image: {{url: "{BRIGHT}", alt: Bright shoes}}
follow_ups:
  - id: nudge
    after: 1d
    message:
      brief: A short reminder.
      template: "{{{{ customer.first_name }}}}, the spring shoes are still here. {{{{ unsubscribe }}}}"
"""


def test_a_campaign_picture_reaches_telegram_as_a_photo_and_slack_as_an_image_block(
    shop: Path, cli: Cli, chats: Chats, clock: WallClock
) -> None:
    (shop / "segments.yaml").write_text(SEGMENTS, encoding="utf-8")
    (shop / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    chats.add_slack_user("U0SOL", "Sol Park")
    clock.to(MORNING)
    cli.ok("import", "customers", "customers.csv")
    cli.ok("segments", "refresh", "--file", "segments.yaml")

    (shop / "plain.yaml").write_text(CAMPAIGN.replace(PICTURE, "http://cdn.shop.example.com/a.webp"), "utf-8")
    code, said = cli("campaign", "validate", "plain.yaml")
    assert code != 0 and "plain.yaml:10: message.image.url: must be an https address" in said, said
    (shop / "filed.yaml").write_text(CAMPAIGN.replace(f"url: {PICTURE}", "file: spring.jpg"), "utf-8")
    code, said = cli("campaign", "validate", "filed.yaml")
    assert code != 0 and "filed.yaml:9: message.image: a file cannot be sent" in said and "https" in said, said

    (shop / "campaign.yaml").write_text(CAMPAIGN, encoding="utf-8")
    validated = cli.ok("campaign", "validate", "campaign.yaml")
    assert f"main / variant bright: the message's brief and template, picture {BRIGHT}" in validated, validated
    preview = cli.ok("campaign", "preview", "campaign.yaml", "--step", "main")
    assert f"[picture: {PICTURE} — {ALT}]" in preview or f"[picture: {BRIGHT} — Bright shoes]" in preview, preview
    sent = cli.ok(
        "campaign", "test-send", "campaign.yaml", "--customer", "T1", "--variant", "bright", "--to", "telegram:6900"
    )
    assert f"with its picture {BRIGHT}" in sent
    test, _rest = chats.telegram.sent(6900)
    assert test.photo == BRIGHT and (test.caption or "").startswith("[TEST spring-look · main · variant bright")

    launched = cli.ok("campaign", "launch", "campaign.yaml")
    assert "sent 2, failed 0" in launched, launched

    photo, rest = chats.telegram.sent(6201)
    assert photo.photo in (PICTURE, BRIGHT) and photo.text is None and photo.reply_markup is None
    caption = photo.caption or ""
    assert caption.startswith("Hi Tia! Line 01") and 900 < len(caption) <= 1024
    assert rest.photo is None and rest.text and rest.text.endswith("Reply STOP to unsubscribe.")
    assert len(caption) + len(rest.text) >= len(STORY)  # the whole text, in two messages
    labels = [b["text"] for row in (rest.reply_markup or {})["inline_keyboard"] for b in row]
    assert labels == ["See the shoes", "Not now"]  # under the last message only

    [dm] = chats.slack.dm(TEAM, "U0SOL")
    [image] = [b for b in dm.blocks if b["type"] == "image"]
    assert (image["image_url"], image["alt_text"]) in ((PICTURE, ALT), (BRIGHT, "Bright shoes"))
    assert "Hi Sol! Line 01" in dm.text and [b["text"]["text"] for b in dm.buttons()] == ["See the shoes", "Not now"]

    clock.shift(timedelta(days=1, minutes=5))
    assert "sent 2, failed 0" in cli.ok("serve", "--once")
    nudge = chats.telegram.sent(6201)[-1]
    assert nudge.photo is None and (nudge.text or "").startswith("Tia, the spring shoes are still here.")
    assert not [b for b in chats.slack.dm(TEAM, "U0SOL")[-1].blocks if b["type"] == "image"]

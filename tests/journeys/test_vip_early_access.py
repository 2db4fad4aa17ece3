"""The sample shop's VIP early access (examples/shop/campaigns/vip-early-access.yaml), lived from an empty database:
launched the day before its start, it waits; each VIP of the club or a recent big spender gets it at 18:30 on
their own clock; one has blocked the bot meanwhile; those who look and neither buy nor write get the last chance
three days later, at 18:30 again, and the report counts what happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.journeys.chats import Chats
from tests.fakes.journeys.customers import HOOK_SECRET, block, buy, inbox, press, reported, write
from tests.fakes.journeys.shop import CAMPAIGNS, PRODUCTS, SEGMENTS, cast
from tests.fakes.journeys.shop import write as write_shop
from tests.fakes.service import serving

pytestmark = pytest.mark.slow

MONDAY = datetime(2027, 5, 3, 6, 30, tzinfo=UTC)  # the day before the campaign's start
FILE = str(CAMPAIGNS / "vip-early-access.yaml")
AUDIENCE = {"V1", "V2", "V3", "V4", "V6"}  # the VIPs of the club, and V2, who spent 399 last week; not V5
LAST_CHANCE = "{first}, still thinking about the "
START = datetime(2027, 5, 4, tzinfo=ZoneInfo("Europe/Berlin"))  # the campaign's start_at


def half_past_six(zone: str, after: datetime = START) -> datetime:
    """The first 18:30 on the wall clock of ``zone`` after ``after`` (the campaign's local_time), in UTC."""
    local = after.astimezone(ZoneInfo(zone))
    moment = local.replace(hour=18, minute=30, second=0, microsecond=0)
    return (moment if moment >= local else moment + timedelta(days=1)).astimezone(UTC)


def test_vip_early_access_waits_for_its_day_and_gives_the_last_chance_to_those_who_looked(
    shop: Path, cli: Cli, chats: Chats, clock: WallClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = cast()
    monkeypatch.setenv("CHATCAST_ORDER_WEBHOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", str(SEGMENTS))
    monkeypatch.setenv("CHATCAST_TELEGRAM_WEBHOOK_SECRET", "journey-webhook-secret")
    clock.to(MONDAY)
    write_shop(shop, people, MONDAY)
    for person in people:
        if person.slack:
            chats.add_slack_user(person.chat, person.name)
    for kind in ("products", "customers", "orders"):
        cli.ok("import", kind, f"{kind}.csv")
    cli.ok("segments", "refresh")

    validated = cli.ok("campaign", "validate", FILE)
    assert "vip-early-access — 2 steps, audience: personas vip + segments club_members, big_spenders_30d" in validated
    preview = cli.ok("campaign", "preview", FILE, "--limit", "10")
    shown = {line.split(" · ")[4] for line in preview.splitlines() if line.startswith("╭─ main · vip")}
    assert shown == AUDIENCE
    sent = cli.ok("campaign", "test-send", FILE, "--customer", "V2", "--to", "telegram:900")
    assert "as V2 gets it on slack, to telegram:900" in sent
    [test] = chats.telegram.sent(900)
    assert (test.text or "").startswith("[TEST vip-early-access · main · variant a · as V2]") and "Walt" in test.text

    launched = cli.ok("campaign", "launch", FILE)
    assert "vip-early-access: 5 planned" in launched and "messages wait for their time" in launched
    assert "main" in cli.ok("campaign", "status", "vip-early-access") and not any(inbox(chats, p) for p in people)
    block(chats, people["V6"])  # before the campaign's day
    left = {"V6"}

    evening = {key: half_past_six(people[key].zone) for key in AUDIENCE}
    for moment in sorted(set(evening.values())):
        clock.to(moment + timedelta(minutes=5))
        due = {k for k, at in evening.items() if at == moment} - left
        output = cli.ok("serve", "--once")
        assert f"sent {len(due)}, failed 0" in output, output
        for key in due:
            [said] = inbox(chats, people[key])
            assert moment <= said.at < moment + timedelta(minutes=10), (key, said.at)
    got = {key: inbox(chats, people[key]) for key in AUDIENCE}
    reached = {key for key, said in got.items() if said}
    assert reached == AUDIENCE - left and not inbox(chats, people["V5"])
    for key in reached:
        [said] = got[key]
        assert said.text.startswith(f"{people[key].first}, thank you for being one of our best customers.")
        assert "GPS Watch Forest" in said.text and "Trail Watch Sand" in said.text
        assert said.buttons == ("See them first", "Ask a question")

    clicked, bought, replied = {"V1", "V2", "V4"}, {"V2"}, {"V4"}
    with serving(webhook=True) as service:  # Telegram posts the customers' presses and words to the webhook
        assert (service.receiving["telegram"], service.receiving["slack"]) == ("webhook", "http")
        chats.slack.app_url = f"{service.url}/slack/events"
        press(chats, people["V1"], got["V1"][0], "Ask a question")
        press(chats, people["V4"], got["V4"][0], "Ask a question")
        assert write(chats, people["V4"], "Is the GPS Watch Forest waterproof?")
        press(chats, people["V2"], got["V2"][0], "See them first")  # a link: Slack tells the app
        credited = buy(service, people["V2"], "W-9", "WAT-0016", datetime.now(UTC))
        assert credited["attributed_to"] == {"campaign": "vip-early-access", "step": "main"}
        chats.run(chats.slack.wait_for(lambda: len(inbox(chats, people["V2"])) == 2, timeout=30))  # the notice
        reported(cli, "vip-early-access", lambda r: r["funnel"]["clicked"] == len(clicked))

    chance = clicked - bought - replied
    assert chance == {"V1"}
    status = cli.ok("campaign", "status", "vip-early-access")
    assert "last-chance (3d after main, when clicked, not_purchased)" in status, status
    # three days after each send the window closes: those who looked and did nothing more get the last chance,
    # at the next 18:30 on their clock
    planned = max(evening[k] for k in reached) + timedelta(days=3, minutes=15)
    clock.to(planned)
    output = cli.ok("serve", "--once")
    assert f"follow-ups planned: vip-early-access {len(chance)}" in output and "sent 0," in output, output
    for key in chance:
        clock.to(half_past_six(people[key].zone, after=planned) + timedelta(minutes=1))
        output = cli.ok("serve", "--once")
        assert "sent 1, failed 0" in output and "campaigns done: vip-early-access" in output
    for person in people:
        said = inbox(chats, person)  # V2's payment notice and the answer V4 got count too
        expected = 0 if person.key not in reached else 2 if person.key in chance | replied | bought else 1
        assert len(said) == expected, (person.key, [s.text for s in said])
        if person.key in chance:
            assert said[1].text.startswith(LAST_CHANCE.format(first=person.first)), said[1].text
            expected_at = half_past_six(person.zone, after=planned)
            assert expected_at <= said[1].at < expected_at + timedelta(minutes=5), said[1].at

    figures = reported(cli, "vip-early-access", lambda r: r["status"] == "done")
    main, last = figures["by"]["step"]["main"], figures["by"]["step"]["last-chance"]
    assert (main["targeted"], main["sent"], main["clicked"], main["replied"]) == (5, 4, 3, 1)
    assert (main["converted"], main["revenue"]) == (len(bought), {"EUR": PRODUCTS["WAT-0016"][2]})
    assert main["skipped_by"] == {"blocked": len(left)} and main["opted_out"] == 0  # they left before it was sent
    assert (last["targeted"], last["sent"], last["clicked"]) == (len(chance), len(chance), 0)
    assert figures["by"]["channel"]["slack"]["sent"] == 1

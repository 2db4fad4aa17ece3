"""The sample shop's spring sale (examples/shop/campaigns/spring-sale.yaml), lived by a marketer and the shop's
customers from an empty database: import, refresh, validate, preview, test-send, launch into each customer's
09:00-20:00, customers press, write, stop, block the bot and buy, two days pass, the reminder reaches exactly those
who did not click (pressing "Not now" is no click) and whose journey goes on, and the report counts what happened.
Here the shop sets no public address for serve: links go out as they are, and Slack's report of a link button's
press is the click."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.journeys.chats import TEAM, Chats
from tests.fakes.journeys.customers import HOOK_SECRET, block, buy, inbox, press, reported, write
from tests.fakes.journeys.shop import CAMPAIGNS, PRODUCTS, SEGMENTS, cast
from tests.fakes.journeys.shop import write as write_shop
from tests.fakes.service import serving

pytestmark = pytest.mark.slow

MONDAY = datetime(2027, 4, 12, 6, 30, tzinfo=UTC)  # Berlin 08:30, London 07:30, Tokyo 15:30, New York 02:30
FILE = str(CAMPAIGNS / "spring-sale.yaml")
AUDIENCE = ("S1", "S2", "S3", "S4", "S5", "S7", "S8", "S9", "S10")  # runners of the last 90 days, opted in
MAIN = {  # the variants' first words
    "saving": "Hi {first}! Spring is here: 20% off running shoes with code SPRING20 until 2027-04-30.",
    "product": " is ready for your spring runs, {first}: 20% off with SPRING20.",
}
REMINDER = "{first}, your 20% code SPRING20 is still waiting: "


def variant_of(text: str, first: str) -> str:
    """Which variant a main message is, by its words."""
    if text.startswith(MAIN["saving"].format(first=first)):
        return "saving"
    assert MAIN["product"].format(first=first) in text.splitlines()[0], text
    return "product"


def report(cli: Cli) -> dict:  # type: ignore[type-arg]
    return json.loads(cli.ok("report", "campaign", "spring-sale", "--json"))


def test_the_spring_sale_reaches_the_runners_and_reminds_those_who_did_not_click(
    shop: Path, cli: Cli, chats: Chats, clock: WallClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = cast()
    monkeypatch.setenv("CHATCAST_ORDER_WEBHOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("CHATCAST_SEGMENTS_FILE", str(SEGMENTS))
    monkeypatch.setenv("CHATCAST_KNOWLEDGE_FILE", str(SEGMENTS.parent / "knowledge.yaml"))
    clock.to(MONDAY)
    write_shop(shop, people, MONDAY)
    for person in people:
        if person.slack:
            chats.add_slack_user(person.chat, person.name)
    chats.add_slack_user("U0MARKET", "Mara Kett")  # the marketer
    for kind in ("products", "customers", "orders"):
        cli.ok("import", kind, f"{kind}.csv")
    cli.ok("segments", "refresh")

    validated = cli.ok("campaign", "validate", FILE)
    assert "spring-sale — 2 steps, 2 variants" in validated and "holdout 10%" in validated
    preview = cli.ok("campaign", "preview", FILE, "--customer", "S2")
    assert "main · bargain_hunter · variant " in preview and "slack · S2" in preview and ", Sam" in preview
    assert "reminder · bargain_hunter" in preview and "Sam, your 20% code SPRING20 is still waiting" in preview
    sent = cli.ok("campaign", "test-send", FILE, "--customer", "S1", "--to", f"slack:{TEAM}/U0MARKET")
    assert "sent a test of spring-sale (step main" in sent and "as S1 gets it" in sent
    [test] = chats.slack.dm(TEAM, "U0MARKET")
    assert test.text.startswith("[TEST spring-sale · main · variant ") and "Nina" in test.text
    assert all(inbox(chats, p) == [] for p in people)  # a test goes to the marketer only

    launched = cli.ok("campaign", "launch", FILE)
    assert "spring-sale: 8 planned" in launched and "sent 1, failed 0" in launched  # Tokyo is in its window
    clock.to(MONDAY + timedelta(hours=8))  # 16:30 in Berlin, 15:30 in London, 10:30 in New York, 09:30 in Chicago
    assert "sent 7, failed 0" in cli.ok("serve", "--once")

    got = {p.key: inbox(chats, p) for p in people}
    reached = {key for key, said in got.items() if said}
    held = set(AUDIENCE) - reached
    assert len(held) == 1 and reached < set(AUDIENCE)  # one in ten held out to measure the lift
    variant = {key: variant_of(got[key][0].text, people[key].first) for key in reached}
    assert set(variant.values()) == {"saving", "product"}
    for key in reached:
        [said] = got[key]
        assert 9 <= said.at.astimezone(ZoneInfo(people[key].zone)).hour < 20, (key, said.at)
        assert said.buttons == ("Shop the sale", "Not now") and "Reply STOP" in said.text

    # what the customers do while the service runs
    clicked, snoozed, bought, stopped, blocked, replied = {"S9"}, {"S1"}, {"S3"}, {"S7"}, {"S8"}, {"S5"}
    assert (clicked | snoozed | bought | stopped | blocked | replied) <= reached
    [holdout] = held
    with serving() as service:
        chats.slack.app_url = f"{service.url}/slack/events"
        press(chats, people["S1"], got["S1"][0], "Not now")  # a snooze: she is reminded
        press(chats, people["S9"], got["S9"][0], "Shop the sale")  # Slack tells the app a link was opened
        answer = write(chats, people["S5"], "Do you have the Cloud Stride in size 44?")
        assert answer and "Reply STOP" not in answer
        assert "unsubscribed" in write(chats, people["S7"], "stop").lower()
        block(chats, people["S8"])
        at = datetime.now(UTC)
        credited = buy(service, people["S3"], "W-1", "RUN-2", at, code="SPRING20")
        assert credited["attributed_to"] == {"campaign": "spring-sale", "step": "main"}
        assert buy(service, people[holdout], "W-2", "RUN-1", at)["attributed_to"] is None
        chats.wait(lambda: len(inbox(chats, people["S3"])) == 2)  # the payment notice
        reported(cli, "spring-sale", lambda r: r["funnel"]["clicked"] == len(clicked))
    assert "W-1" in inbox(chats, people["S3"])[1].text

    clock.to(MONDAY + timedelta(days=2, hours=8, minutes=5))  # every window closed
    output = cli.ok("serve", "--once")
    remind = reached - clicked - bought - stopped - blocked
    assert remind == {"S1", "S2", "S4", "S5"} and remind | blocked == reached - clicked - bought - stopped
    assert f"follow-ups planned: spring-sale {len(remind | blocked)}" in output
    assert f"sent {len(remind)}, failed 0" in output and "campaigns done: spring-sale" in output

    for person in people:
        said = inbox(chats, person)
        steps = ["main", "reminder"] if person.key in remind else ["main"] if person.key in reached else []
        extra = 1 if person.key in bought | held | stopped | replied else 0  # a payment notice, an answer
        assert len(said) == len(steps) + extra, (person.key, [s.text for s in said])
        if person.key in remind:
            reminder = said[-1]
            assert reminder.text.startswith(REMINDER.format(first=person.first)), reminder.text
            product = reminder.text.removeprefix(REMINDER.format(first=person.first)).split(" and friends")[0]
            assert product in {name for name, category, _ in PRODUCTS.values() if category == "running-shoes"}
            assert reminder.buttons == ("Use my code",)
            assert 9 <= reminder.at.astimezone(ZoneInfo(person.zone)).hour < 20
            assert reminder.at - said[0].at >= timedelta(days=2)

    status = cli.ok("campaign", "status", "spring-sale")
    assert status.startswith("spring-sale: done") and "no step is ahead" in status
    figures = report(cli)
    main, reminder = figures["by"]["step"]["main"], figures["by"]["step"]["reminder"]
    assert figures["status"] == "done"
    assert (main["targeted"], main["holdout"], main["sent"]) == (len(AUDIENCE), 1, len(reached))
    assert (main["clicked"], main["replied"], main["converted"]) == (len(clicked), len(replied), len(bought))
    assert main["revenue"] == {"EUR": PRODUCTS["RUN-2"][2]} and main["opted_out"] == len(stopped | blocked)
    assert (reminder["targeted"], reminder["sent"], reminder["clicked"]) == (len(remind | blocked), len(remind), 0)
    assert reminder["skipped_by"] == {"blocked": len(blocked)}
    for name in ("saving", "product"):
        members = {k for k, v in variant.items() if v == name}
        assert figures["variants"][name]["trials"] == len(members)
        assert figures["variants"][name]["successes"] == len(members & bought)
    lift = figures["lift_over_holdout"]  # intent to treat: everyone assigned; per protocol: those reached
    assert (lift["assigned"]["trials"], lift["assigned"]["successes"]) == (len(AUDIENCE) - 1, len(bought))
    assert (lift["reached"]["trials"], lift["reached"]["successes"]) == (len(reached), len(bought))
    assert (lift["holdout"]["trials"], lift["holdout"]["successes"]) == (1, 1)
    assert lift["itt"]["verdict"].startswith("window open until") and figures["window_open"]  # orders may still come
    clock.to(MONDAY + timedelta(days=12))  # the attribution window of the last first message has closed
    closed = report(cli)
    assert not closed["window_open"] and closed["lift_over_holdout"]["itt"]["verdict"] == "too small to call"

    # the overview a marketer opens first, and the tables they take to a spreadsheet
    (overview,) = json.loads(cli.ok("report", "campaigns", "--json"))
    assert (overview["key"], overview["reached"], overview["messages"]) == (
        "spring-sale", len(reached), closed["funnel"]["sent"]
    )  # fmt: skip
    assert overview["conversion_rate"] == pytest.approx(len(bought) / len(reached))
    assert overview["verdict"] == "too small to call" and overview["revenue"] == {"EUR": PRODUCTS["RUN-2"][2]}
    out = shop / "tables"
    printed = cli.ok("report", "campaign", "spring-sale", "--csv", str(out))
    assert "Wrote" in printed and (out / "funnel.csv").is_file() and (out / "variants.csv").is_file()
    with (out / "funnel.csv").open(encoding="utf-8") as table:
        funnel = {row["stage"]: row for row in csv.DictReader(table)}
    assert int(funnel["reached"]["customers"]) == len(reached) and int(funnel["converted"]["customers"]) == len(bought)
    # only the reminders were sent on Wednesday (the shop's days): a range keeps those messages
    wednesday = f"{MONDAY + timedelta(days=2):%Y-%m-%d}"
    ranged = json.loads(cli.ok("report", "campaign", "spring-sale", "--from", wednesday, "--to", wednesday, "--json"))
    assert set(ranged["by"]["step"]) == {"reminder"} and ranged["funnel"]["sent"] == len(remind)
    code, said = cli("report", "campaign", "spring-sale", "--from", "31-12-2027")
    assert code != 0 and "is not a date like" in said

"""Whether a campaign can go out as written now: expiry, schedule, window, quiet hours, and the values its
templates print, each refused with file:line, the field and how to fix it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from campaigns.file.loader import CampaignError, parse_campaign
from campaigns.timing.readiness import Shop
from tests.fakes.campaign_files import GOOD, edit, line_of

NOW = datetime(2027, 1, 10, 12, tzinfo=UTC)  # 13:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
SHOP = Shop(now=NOW, zone=BERLIN, quiet=(time(21), time(8)))
SHOP_URL = (
    "the template prints shop.url, but no shop URL is set: set CHATCAST_SHOP_URL to the shop's address"
    " (e.g. https://shop.example.com), or print it only inside {% if shop.url %}"
)


def problems(text: str, **checks: Any) -> list[str]:
    with pytest.raises(CampaignError) as caught:
        parse_campaign(text, "spring.yaml", **checks)
    return [str(p) for p in caught.value.problems]


def scheduled(*lines: str) -> str:
    return GOOD + "schedule:\n" + "".join(f"  {line}\n" for line in lines)


def test_a_campaign_that_can_go_out_passes() -> None:
    text = scheduled("window: {start: '09:00', end: '20:00'}", "local_time: '10:00'", "end_at: 2027-02-01T00:00:00")
    assert parse_campaign(text, shop=SHOP).id == "spring"


def test_an_expired_offer_is_refused_by_the_shop_clock_but_still_parses_when_registered() -> None:
    text = edit("discount: 20%}", "discount: 20%, expires: 2027-01-09}")
    assert problems(text, shop=SHOP) == [
        f"spring.yaml:{line_of(text, 'expires')}: offer.expires: the offer SPRING20 expired on 2027-01-09"
        " (today is 2027-01-10 in Europe/Berlin): set a later date, or take the offer out"
    ]
    assert parse_campaign(text).offer is not None  # the scheduler reads a launched campaign without the clock
    assert parse_campaign(edit("discount: 20%}", "discount: 20%, expires: 2027-01-10}"), shop=SHOP).offer


def test_a_schedule_that_ended_is_refused() -> None:
    text = scheduled("end_at: 2027-01-10T12:59:00")
    assert problems(text, shop=SHOP) == [
        f"spring.yaml:{line_of(text, 'end_at')}: schedule.end_at: end_at 2027-01-10 12:59 Europe/Berlin is already"
        " past (now 2027-01-10 13:00 Europe/Berlin): nothing would be sent; set a later end_at"
    ]


def test_a_window_inside_the_quiet_hours_is_refused() -> None:
    text = scheduled("window: {start: '22:00', end: '07:30'}")
    assert problems(text, shop=SHOP) == [
        f"spring.yaml:{line_of(text, 'window')}: schedule.window: the window 22:00-07:30 lies inside the shop's"
        " quiet hours 21:00-08:00 (CHATCAST_QUIET_HOURS): nothing could ever be sent; move the window, or narrow"
        " the quiet hours"
    ]
    assert parse_campaign(text, shop=Shop(now=NOW, zone=BERLIN)).schedule  # no quiet hours: it can send
    assert parse_campaign(scheduled("window: {start: '20:00', end: '22:00'}"), shop=SHOP).schedule  # 20:00-21:00


def test_a_local_time_outside_the_window_or_in_the_quiet_hours_is_refused() -> None:
    text = scheduled("window: {start: '09:00', end: '20:00'}", "local_time: '07:00'")
    assert problems(text, shop=SHOP) == [
        f"spring.yaml:{line_of(text, 'local_time')}: schedule.local_time: local_time 07:00 is outside the window"
        " 09:00-20:00: every message would wait for the window to open; move local_time into the window, or widen it"
    ]
    text = scheduled("local_time: '22:30'")
    assert problems(text, shop=SHOP) == [
        f"spring.yaml:{line_of(text, 'local_time')}: schedule.local_time: local_time 22:30 falls in the shop's"
        " quiet hours 21:00-08:00 (CHATCAST_QUIET_HOURS): every message would wait until 08:00; move local_time"
        " out of them"
    ]


def test_a_window_that_never_opens_before_the_end_is_refused() -> None:
    text = scheduled(
        "window: {start: '09:00', end: '20:00'}", "start_at: 2027-02-01T20:30:00", "end_at: 2027-02-01T23:00:00"
    )
    assert problems(text, shop=SHOP) == [
        f"spring.yaml:{line_of(text, 'end_at')}: schedule.end_at: nothing can be sent before end_at 2027-02-01 23:00"
        " Europe/Berlin: the first moment the window 09:00-20:00 and the quiet hours 21:00-08:00 allow is"
        " 2027-02-02 09:00 Europe/Berlin; set a later end_at, or an earlier start_at"
    ]
    text = scheduled("local_time: '10:00'", "timezone: America/New_York", "end_at: 2027-01-10T09:00:00")
    assert problems(text, shop=SHOP) == [  # 07:00 in New York now: nothing at 10:00 before 09:00
        f"spring.yaml:{line_of(text, 'end_at')}: schedule.end_at: nothing can be sent before end_at 2027-01-10 09:00"
        " America/New_York: the first moment local_time 10:00 and the quiet hours 21:00-08:00 allow is 2027-01-10"
        " 10:00 America/New_York; set a later end_at, or an earlier start_at"
    ]


def test_launch_refuses_an_end_that_comes_before_the_first_moment_in_every_zone_of_the_audience() -> None:
    """The window holds in each customer's zone: at 13:00 in Berlin it is 01:00 tomorrow in Auckland, whose window
    opens at 21:00 Berlin time, after end_at. Validate cannot know the audience; launch gives its zones."""
    text = scheduled("window: {start: '09:00', end: '17:00'}", "end_at: 2027-01-10T20:00:00")
    assert parse_campaign(text, shop=SHOP).schedule  # validate: fine in the campaign's own zone
    auckland = replace(SHOP, zones=["Pacific/Auckland"])
    assert problems(text, shop=auckland) == [
        f"spring.yaml:{line_of(text, 'end_at')}: schedule.end_at: nothing can be sent before end_at 2027-01-10 20:00"
        " Europe/Berlin to anyone in the audience: in the customers' own time zones, the first moment the window"
        " 09:00-17:00 and the quiet hours 21:00-08:00 allow is 2027-01-11 09:00 Pacific/Auckland (2027-01-10 21:00"
        " Europe/Berlin) at the earliest; set a later end_at"
    ]
    for zones in (["Pacific/Auckland", None], ["Pacific/Auckland", "Mars/Base"], []):  # no zone: the shop's
        assert parse_campaign(text, shop=replace(SHOP, zones=zones)).schedule
    assert parse_campaign(scheduled("window: {start: '09:00', end: '17:00'}"), shop=auckland).schedule  # no end


def test_a_cron_that_never_fires_again_is_refused() -> None:
    text = scheduled("cron: '0 9 1 1 *'", "end_at: 2027-06-01T00:00:00")
    assert problems(text, shop=SHOP) == [
        f"spring.yaml:{line_of(text, 'cron')}: schedule.cron: the cron '0 9 1 1 *' does not fire between"
        " 2027-01-10 13:00 Europe/Berlin and 2027-06-01 00:00 Europe/Berlin (in its timezone): change the cron, or"
        " set a later end_at"
    ]
    assert parse_campaign(scheduled("cron: '0 9 * * mon'", "end_at: 2027-06-01T00:00:00"), shop=SHOP).schedule


def test_shop_url_needs_the_setting_wherever_a_template_prints_it() -> None:
    text = edit('url: "{{ product.url }}"', 'url: "{{ shop.url }}?code={{ offer.code }}"')
    text = text.replace(
        'template: "{{ product.name }} - {{ offer.code }}"', "template: 'Shop: {{ shop.url ~ \"/sale\" }}'"
    )
    button, variant = line_of(text, "{{ shop.url }}?code"), line_of(text, "Shop: {{ shop.url")
    assert problems(text, shop=SHOP) == [
        f"spring.yaml:{button}: message.buttons[0].url: {SHOP_URL}",
        f"spring.yaml:{variant}: variants[1].template: {SHOP_URL}",
    ]
    with_url = Shop(now=NOW, zone=BERLIN, url="https://shop.example.com")
    assert parse_campaign(text, shop=with_url).id == "spring"
    assert parse_campaign(text).id == "spring"  # a registered campaign is read back without the settings


def test_shop_url_inside_an_if_needs_no_setting() -> None:
    guarded = "{% if shop.url %}{{ shop.url }}{% else %}{{ product.url }}{% endif %}"
    text = edit('url: "{{ product.url }}"', f'url: "{guarded}"')
    text = text.replace("    {{ unsubscribe }}\n", "    {{ shop.url | default('') }}\n    {{ unsubscribe }}\n", 1)
    assert parse_campaign(text, shop=SHOP).id == "spring"


def test_offer_expires_needs_an_expiry_to_be_printed() -> None:
    text = edit("    {{ unsubscribe }}\n", "    Until {{ offer.expires }}.\n    {{ unsubscribe }}\n")
    assert problems(text) == [
        f"spring.yaml:{line_of(text, 'Until')}: message.template: the template prints offer.expires, but the offer"
        " has no expires: add offer.expires, or print it only inside {% if offer.expires %}"
    ]
    dated = text.replace("discount: 20%}", "discount: 20%, expires: 2027-04-30}")
    assert parse_campaign(dated, shop=SHOP).offer is not None
    guarded = edit("    {{ unsubscribe }}\n", "    {% if offer.expires %}Until {{ offer.expires }}.{% endif %}\n")
    assert parse_campaign(guarded, shop=SHOP).offer is not None

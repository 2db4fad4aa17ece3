"""Whether a campaign can go out as written, now, in this shop: checks against the clock and the shop's settings.

A file can be valid and still send nothing, or send it wrong: an offer that has expired, a schedule whose end
is past, a sending window inside the shop's quiet hours, a ``local_time`` the window never lets through, a
window that never opens before ``end_at``, a cron that never fires again. ``campaign validate`` and ``launch``
refuse these (the scheduler, reading a campaign already registered, does not ask). Wall-clock times are read
in the campaign's ``schedule.timezone``, else the shop's ``CHATCAST_TIMEZONE``: the zone the marketer writes in,
and the one customers without a timezone of their own get. The window, ``local_time`` and the quiet hours hold
in each customer's own zone, though: ``launch``, which knows the audience, gives their zones
(:attr:`Shop.zones`) and refuses an ``end_at`` that comes before the first moment in every one of them (else
every row would be planned only to be skipped ``after_end``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.file.definition import Campaign, Schedule
from campaigns.file.wording import Loc
from campaigns.timing.when import cron_runs, customer_zone, first_moment, next_allowed, next_local
from storage.timezones import UTC_ZONE, parse_timezone

Span = tuple[time, time]
HORIZON = timedelta(days=400)  # a cron fires at least once a year
QUIET = "CHATCAST_QUIET_HOURS"


@dataclass(frozen=True)
class Shop:
    """What the checks compare a campaign with: the moment (aware), the shop's zone, URL and quiet hours, and
    ``zones``, the time zones of the campaign's audience where they are known (None: a customer without one)."""

    now: datetime
    zone: ZoneInfo = UTC_ZONE
    url: str | None = None
    quiet: Span | None = None
    zones: Sequence[str | None] | None = None

    def problems(self, campaign: Campaign) -> Iterator[tuple[Loc, str]]:
        """What would stop ``campaign`` from going out as written now (:func:`readiness_problems`)."""
        return readiness_problems(campaign, self)


def readiness_problems(campaign: Campaign, shop: Shop) -> Iterator[tuple[Loc, str]]:
    """What would stop the campaign from going out as written (the field, and why with how to fix it)."""
    schedule = campaign.schedule
    zone = parse_timezone(schedule.timezone) if schedule and schedule.timezone else shop.zone
    offer = campaign.offer
    today = shop.now.astimezone(zone).date()
    if offer is not None and offer.expires is not None and offer.expires < today:
        yield (
            ("offer", "expires"),
            (
                f"the offer {offer.code} expired on {offer.expires:%Y-%m-%d} (today is {today:%Y-%m-%d} in {zone.key}):"
                " set a later date, or take the offer out"
            ),
        )
    if schedule is not None:
        yield from _schedule_problems(schedule, shop, zone)


def _aware(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.replace(tzinfo=zone) if moment is not None and moment.tzinfo is None else moment


def _shown(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


def _span(hours: Span) -> str:
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


def _minute(at: time) -> int:
    return at.hour * 60 + at.minute


def _minutes(hours: Span) -> set[int]:
    """The minutes of the day in ``[start, end)``, wrapping midnight when the end is earlier (all day when equal)."""
    start, end = _minute(hours[0]), _minute(hours[1])
    return set(range(start, end)) if start < end else set(range(start, 1440)) | set(range(0, end))


def _schedule_problems(schedule: Schedule, shop: Shop, zone: ZoneInfo) -> Iterator[tuple[Loc, str]]:
    start, end = _aware(schedule.start_at, zone), _aware(schedule.end_at, zone)
    window = (schedule.window.start, schedule.window.end) if schedule.window else None
    quiet, local = shop.quiet, schedule.local_time
    if end is not None and end <= shop.now:
        yield (
            ("schedule", "end_at"),
            (
                f"end_at {_shown(end, zone)} is already past (now {_shown(shop.now, zone)}): nothing would be sent;"
                " set a later end_at"
            ),
        )
        return
    if window and quiet and not _minutes(window) - _minutes(quiet):
        yield (
            ("schedule", "window"),
            (
                f"the window {_span(window)} lies inside the shop's quiet hours {_span(quiet)} ({QUIET}): nothing could"
                " ever be sent; move the window, or narrow the quiet hours"
            ),
        )
        return
    if local is not None and window and _minute(local) not in _minutes(window):
        yield (
            ("schedule", "local_time"),
            (
                f"local_time {local:%H:%M} is outside the window {_span(window)}: every message would wait for the"
                " window to open; move local_time into the window, or widen it"
            ),
        )
        return
    if local is not None and quiet and _minute(local) in _minutes(quiet):
        yield (
            ("schedule", "local_time"),
            (
                f"local_time {local:%H:%M} falls in the shop's quiet hours {_span(quiet)} ({QUIET}): every message"
                f" would wait until {quiet[1]:%H:%M}; move local_time out of them"
            ),
        )
        return
    since = max(start, shop.now) if start is not None else shop.now
    if schedule.cron is not None:
        until = end or since + HORIZON
        if not cron_runs(schedule.cron, zone, since - timedelta(microseconds=1), until, limit=1):
            yield (
                ("schedule", "cron"),
                (
                    f"the cron {schedule.cron!r} does not fire between {_shown(since, zone)} and {_shown(until, zone)}"
                    " (in its timezone): change the cron, or set a later end_at"
                ),
            )
        return
    first = next_local(local, zone, since) if local is not None else since
    try:
        first = next_allowed(first, zone, window=window, quiet=quiet)
    except ValueError:  # quiet hours all day: the shop's setting, not this file, is what to fix
        yield (
            ("schedule", "window" if window else "campaign"),
            f"the shop's quiet hours ({QUIET}) leave no time to send",
        )
        return
    rules = [f"local_time {local:%H:%M}"] if local else []
    rules += [f"the window {_span(window)}"] if window else []
    rules += [f"the quiet hours {_span(quiet)}"] if quiet else []
    if end is not None and first > end:
        yield (
            ("schedule", "end_at"),
            (
                f"nothing can be sent before end_at {_shown(end, zone)}: the first moment {' and '.join(rules) or 'it'}"
                f" allow is {_shown(first, zone)}; set a later end_at, or an earlier start_at"
            ),
        )
        return
    if end is not None and rules and shop.zones:
        yield from _audience_problems(schedule, shop, zone, (start, end), " and ".join(rules))


def _audience_problems(
    schedule: Schedule, shop: Shop, zone: ZoneInfo, span: tuple[datetime | None, datetime], rules: str
) -> Iterator[tuple[Loc, str]]:
    """``end_at`` before the first moment in every time zone of the audience: every row would be skipped."""
    start, end = span
    window = (schedule.window.start, schedule.window.end) if schedule.window else None
    firsts = []
    for name in set(shop.zones or ()):
        tz = customer_zone(name, shop.zone)  # as the due times are set: no zone, or an unknown one, is the shop's
        try:
            firsts.append((first_moment(start, schedule.local_time, tz, shop.now, window=window, quiet=shop.quiet), tz))
        except ValueError:  # quiet hours all day: nothing in that zone, said above for the shop's
            continue
    if not firsts or min(first for first, _ in firsts) <= end:
        return
    first, tz = min(firsts, key=lambda pair: (pair[0], pair[1].key))
    yield (
        ("schedule", "end_at"),
        (
            f"nothing can be sent before end_at {_shown(end, zone)} to anyone in the audience: in the customers' own"
            f" time zones, the first moment {rules} allow is {_shown(first, tz)} ({_shown(first, zone)}) at the"
            " earliest; set a later end_at"
        ),
    )

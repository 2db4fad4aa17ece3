"""Delivery moments from a schedule: DST gaps and folds, the date line, windows, quiet hours, cron runs, delays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from campaigns.file.definition import Window
from campaigns.timing.when import (
    cron_runs,
    customer_zone,
    due_for,
    in_window,
    local_moment,
    next_allowed,
    next_local,
    next_open,
    parse_delay,
    quiet,
    run_id,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


# local_moment


@pytest.mark.parametrize(
    ("day", "at", "tz", "expected"),
    [
        (date(2027, 3, 27), time(9), BERLIN, utc(2027, 3, 27, 8)),  # CET, the day before
        (date(2027, 3, 28), time(1, 59), BERLIN, utc(2027, 3, 28, 0, 59)),  # just before the jump
        (date(2027, 3, 28), time(2, 30), BERLIN, utc(2027, 3, 28, 1, 30)),  # gap: 03:30 CEST
        (date(2027, 3, 28), time(3), BERLIN, utc(2027, 3, 28, 1)),  # first wall time after the gap
        (date(2027, 3, 28), time(9), BERLIN, utc(2027, 3, 28, 7)),  # CEST
        (date(2027, 10, 31), time(2, 30), BERLIN, utc(2027, 10, 31, 0, 30)),  # fold: first (CEST) occurrence
        (date(2027, 10, 31), time(3), BERLIN, utc(2027, 10, 31, 2)),  # CET again
        (date(2027, 3, 14), time(2, 30), NEW_YORK, utc(2027, 3, 14, 7, 30)),  # gap: 03:30 EDT
        (date(2027, 3, 14), time(9), NEW_YORK, utc(2027, 3, 14, 13)),
        (date(2027, 11, 7), time(1, 30), NEW_YORK, utc(2027, 11, 7, 5, 30)),  # fold: first (EDT) occurrence
        (date(2027, 11, 7), time(9), NEW_YORK, utc(2027, 11, 7, 14)),  # EST
    ],
)
def test_local_moment_is_dst_correct(day: date, at: time, tz: ZoneInfo, expected: datetime) -> None:
    moment = local_moment(day, at, tz)
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)


def test_a_gap_time_shifts_forward_by_the_gap_and_a_fold_time_is_its_first_occurrence() -> None:
    assert local_moment(date(2027, 3, 28), time(2, 30), BERLIN).astimezone(BERLIN).time() == time(3, 30)
    assert local_moment(date(2027, 3, 14), time(2, 30), NEW_YORK).astimezone(NEW_YORK).time() == time(3, 30)
    first = local_moment(date(2027, 10, 31), time(2, 30), BERLIN)
    assert first.astimezone(BERLIN).utcoffset() == timedelta(hours=2)  # CEST, an hour before the CET 02:30
    assert local_moment(date(2027, 10, 31), time(2, 30, fold=1), BERLIN) == first  # the time's own fold is ignored


def test_local_moment_ignores_a_tzinfo_on_the_wall_time() -> None:
    assert local_moment(date(2027, 1, 5), time(9, tzinfo=UTC), BERLIN) == utc(2027, 1, 5, 8)


def test_the_same_local_time_is_a_day_apart_on_either_side_of_the_date_line() -> None:
    east = local_moment(date(2027, 6, 1), time(9), KIRITIMATI)
    west = local_moment(date(2027, 6, 1), time(9), PAGO_PAGO)
    assert east == utc(2027, 5, 31, 19)
    assert west == utc(2027, 6, 1, 20)
    assert west - east == timedelta(hours=25)


# next_local


@pytest.mark.parametrize(
    ("at", "tz", "after", "expected"),
    [
        (time(9), BERLIN, utc(2027, 1, 5, 7), utc(2027, 1, 5, 8)),  # not yet passed: today
        (time(9), BERLIN, utc(2027, 1, 5, 8), utc(2027, 1, 5, 8)),  # exactly now: now
        (time(9), BERLIN, utc(2027, 1, 5, 8, 0, 1), utc(2027, 1, 6, 8)),  # passed: tomorrow
        (time(9), BERLIN, berlin(2027, 3, 27, 10), utc(2027, 3, 28, 7)),  # tomorrow is summer time
        (time(2, 30), BERLIN, utc(2027, 3, 28, 0), utc(2027, 3, 28, 1, 30)),  # gap, shifted: 03:30 CEST
        (time(2, 30), BERLIN, utc(2027, 3, 28, 1, 45), utc(2027, 3, 29, 0, 30)),  # shifted one passed: tomorrow
        (time(2, 30), BERLIN, utc(2027, 10, 31, 0, 0), utc(2027, 10, 31, 0, 30)),  # fold: first occurrence
        (time(2, 30), BERLIN, utc(2027, 10, 31, 0, 45), utc(2027, 11, 1, 1, 30)),  # not the second one
        (time(23, 30), NEW_YORK, utc(2027, 11, 7, 4), utc(2027, 11, 8, 4, 30)),  # from midnight EDT to 23:30 EST
        (time(9), KIRITIMATI, utc(2027, 6, 1, 12), utc(2027, 6, 1, 19)),  # already 06-02 02:00 there
        (time(9), PAGO_PAGO, utc(2027, 6, 1, 12), utc(2027, 6, 1, 20)),  # still 06-01 01:00 there
    ],
)
def test_next_local(at: time, tz: ZoneInfo, after: datetime, expected: datetime) -> None:
    assert next_local(at, tz, after) == expected


def test_next_local_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_local(time(9), BERLIN, datetime(2027, 1, 5, 9))


# windows and quiet hours


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        (berlin(2027, 1, 5, 8, 59, 59), False),
        (berlin(2027, 1, 5, 9), True),  # the start is inside
        (berlin(2027, 1, 5, 16, 59), True),
        (berlin(2027, 1, 5, 17), False),  # the end is not
        (berlin(2027, 1, 5, 23), False),
    ],
)
def test_in_window_day(local: datetime, inside: bool) -> None:
    assert in_window(local, time(9), time(17), BERLIN) is inside


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        (berlin(2027, 1, 5, 19, 59), False),
        (berlin(2027, 1, 5, 20), True),
        (berlin(2027, 1, 5, 23, 59), True),
        (berlin(2027, 1, 6, 0), True),
        (berlin(2027, 1, 6, 3), True),
        (berlin(2027, 1, 6, 7, 59), True),
        (berlin(2027, 1, 6, 8), False),
        (berlin(2027, 1, 6, 12), False),
    ],
)
def test_in_window_wrapping_midnight(local: datetime, inside: bool) -> None:
    assert in_window(local, time(20), time(8), BERLIN) is inside


@pytest.mark.parametrize("hour", [0, 6, 9, 12, 23])
def test_a_window_starting_where_it_ends_is_always_open(hour: int) -> None:
    assert in_window(berlin(2027, 1, 5, hour), time(9), time(9), BERLIN)
    assert next_open(berlin(2027, 1, 5, hour), time(9), time(9), BERLIN) == berlin(2027, 1, 5, hour)


def test_in_window_reads_the_wall_clock_of_the_zone_given() -> None:
    moment = utc(2027, 1, 5, 7, 30)  # 08:30 in Berlin, 02:30 in New York
    assert in_window(moment, time(8), time(9), BERLIN)
    assert not in_window(moment, time(8), time(9), NEW_YORK)
    assert not in_window(moment, time(8), time(9), ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("moment", "start", "end", "expected"),
    [
        (berlin(2027, 1, 5, 10), time(9), time(17), utc(2027, 1, 5, 9)),  # inside: itself, in UTC
        (berlin(2027, 1, 5, 7), time(9), time(17), utc(2027, 1, 5, 8)),  # before: today's start
        (berlin(2027, 1, 5, 18), time(9), time(17), utc(2027, 1, 6, 8)),  # after: tomorrow's start
        (berlin(2027, 1, 5, 12), time(20), time(8), utc(2027, 1, 5, 19)),  # wrapping: this evening
        (berlin(2027, 1, 6, 2), time(20), time(8), utc(2027, 1, 6, 1)),  # wrapping, after midnight: open
        (berlin(2027, 3, 27, 18), time(9), time(17), utc(2027, 3, 28, 7)),  # next start is in summer time
        (berlin(2027, 10, 30, 18), time(9), time(17), utc(2027, 10, 31, 8)),  # next start is in winter time
        (berlin(2027, 3, 28, 0, 30), time(2, 30), time(6), utc(2027, 3, 28, 1, 30)),  # start in the gap: 03:30
        (berlin(2027, 3, 28, 0, 30), time(2), time(2, 45), utc(2027, 3, 29, 0)),  # window wholly in the gap
    ],
)
def test_next_open(moment: datetime, start: time, end: time, expected: datetime) -> None:
    opened = next_open(moment, start, end, BERLIN)
    assert opened == expected
    assert opened.tzinfo is UTC


def test_quiet_is_inside_the_quiet_hours() -> None:
    assert quiet(berlin(2027, 1, 5, 22), time(21), time(8), BERLIN)
    assert quiet(berlin(2027, 1, 6, 7, 59), time(21), time(8), BERLIN)
    assert not quiet(berlin(2027, 1, 6, 8), time(21), time(8), BERLIN)
    assert not quiet(berlin(2027, 1, 5, 20, 59), time(21), time(8), BERLIN)


def test_next_allowed_without_limits_is_the_moment() -> None:
    assert next_allowed(berlin(2027, 1, 5, 3), BERLIN) == utc(2027, 1, 5, 2)


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        (berlin(2027, 1, 5, 22, 30), BERLIN, utc(2027, 1, 6, 7)),  # pushed to 08:00 next morning
        (berlin(2027, 1, 6, 3), BERLIN, utc(2027, 1, 6, 7)),  # after midnight: this morning
        (berlin(2027, 1, 5, 20), BERLIN, utc(2027, 1, 5, 19)),  # before the quiet hours: itself
        (berlin(2027, 3, 27, 23), BERLIN, utc(2027, 3, 28, 6)),  # the morning after is summer time
        (berlin(2027, 10, 30, 23), BERLIN, utc(2027, 10, 31, 7)),  # ... and winter time
        (utc(2027, 6, 1, 12), KIRITIMATI, utc(2027, 6, 1, 18)),  # 02:00 on 06-02 there: 08:00 is 18:00 UTC
        (utc(2027, 6, 1, 12), PAGO_PAGO, utc(2027, 6, 1, 19)),  # 01:00 on 06-01 there: 08:00 is 19:00 UTC
    ],
)
def test_quiet_hours_push_into_the_next_morning(moment: datetime, tz: ZoneInfo, expected: datetime) -> None:
    assert next_allowed(moment, tz, quiet=(time(21), time(8))) == expected


@pytest.mark.parametrize(
    ("moment", "window", "quiet_hours", "expected"),
    [
        (berlin(2027, 1, 5, 12, 30), (time(9), time(20)), (time(12), time(14)), utc(2027, 1, 5, 13)),  # lunch
        (berlin(2027, 1, 5, 21), (time(9), time(20)), (time(12), time(14)), utc(2027, 1, 6, 8)),  # window
        (berlin(2027, 1, 5, 10), (time(9), time(20)), (time(8), time(11)), utc(2027, 1, 5, 10)),  # 11:00
        (berlin(2027, 1, 5, 12), (time(20), time(8)), (time(22), time(7)), utc(2027, 1, 5, 19)),  # this evening
        (berlin(2027, 1, 5, 23), (time(20), time(8)), (time(22), time(7)), utc(2027, 1, 6, 6)),  # 07:00
        (berlin(2027, 1, 5, 7), (time(8), time(9)), (time(22), time(8)), utc(2027, 1, 5, 7)),  # meet at 08:00
    ],
)
def test_next_allowed_window_and_quiet_hours(
    moment: datetime, window: tuple[time, time], quiet_hours: tuple[time, time], expected: datetime
) -> None:
    allowed = next_allowed(moment, BERLIN, window=window, quiet=quiet_hours)
    assert allowed == expected
    assert in_window(allowed, *window, BERLIN)
    assert not quiet(allowed, *quiet_hours, BERLIN)


def test_next_allowed_takes_the_campaign_window() -> None:
    window = Window(start=time(9), end=time(17))
    assert next_allowed(berlin(2027, 1, 5, 18), BERLIN, window=window) == utc(2027, 1, 6, 8)
    lunch = Window(start=time(12), end=time(13))
    assert next_allowed(berlin(2027, 1, 5, 12, 30), BERLIN, window=window, quiet=lunch) == utc(2027, 1, 5, 12)


@pytest.mark.parametrize(
    ("window", "quiet_hours"),
    [
        ((time(9), time(17)), (time(8), time(18))),  # quiet hours around the window
        ((time(9), time(17)), (time(9), time(17))),  # exactly the window
        ((time(22), time(6)), (time(21), time(7))),  # both wrapping
        (None, (time(3), time(3))),  # quiet all day
    ],
)
def test_quiet_hours_covering_the_window_leave_no_time(
    window: tuple[time, time] | None, quiet_hours: tuple[time, time]
) -> None:
    with pytest.raises(ValueError, match="no time is left"):
        next_allowed(berlin(2027, 1, 5, 12), BERLIN, window=window, quiet=quiet_hours)


# customer zones and due moments


@pytest.mark.parametrize("name", [None, "", "   ", "Mars/Olympus_Mons", "europe/berlin", "../../etc/passwd", "Europe"])
def test_an_empty_or_unknown_customer_zone_falls_back_to_the_shop(name: str | None) -> None:
    assert customer_zone(name, BERLIN) is BERLIN


def test_a_known_customer_zone_is_used() -> None:
    assert customer_zone("Asia/Tokyo", BERLIN) == ZoneInfo("Asia/Tokyo")
    assert customer_zone(" Pacific/Kiritimati ", BERLIN) == KIRITIMATI


@pytest.mark.parametrize(
    ("start", "local_time", "tz", "now", "expected"),
    [
        (None, None, BERLIN, berlin(2027, 1, 5, 12), utc(2027, 1, 5, 11)),  # now, in UTC
        (utc(2027, 1, 7, 6), None, BERLIN, utc(2027, 1, 5), utc(2027, 1, 7, 6)),  # the start
        (None, time(9), BERLIN, berlin(2027, 1, 5, 12), utc(2027, 1, 6, 8)),  # 09:00 passed today
        (utc(2027, 1, 7, 6), time(9), BERLIN, utc(2027, 1, 5), utc(2027, 1, 7, 8)),  # 09:00 on the start day
        (utc(2027, 1, 7, 6), time(9), NEW_YORK, utc(2027, 1, 5), utc(2027, 1, 7, 14)),  # later in the west
        (utc(2027, 1, 7, 6), time(9), KIRITIMATI, utc(2027, 1, 5), utc(2027, 1, 7, 19)),  # 20:00 there: next day
        (utc(2027, 1, 7, 6), time(9), PAGO_PAGO, utc(2027, 1, 5), utc(2027, 1, 7, 20)),  # 19:00 on the 6th
        (utc(2027, 1, 7, 6), time(9), BERLIN, utc(2027, 2, 1), utc(2027, 1, 7, 8)),  # past start: overdue
        (utc(2027, 3, 27, 12), time(2, 30), BERLIN, utc(2027, 1, 1), utc(2027, 3, 28, 1, 30)),  # into the gap
    ],
)
def test_due_for(
    start: datetime | None, local_time: time | None, tz: ZoneInfo, now: datetime, expected: datetime
) -> None:
    due = due_for(start, local_time, tz, now)
    assert due == expected
    assert due.tzinfo is UTC


def test_due_for_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="schedule_start"):
        due_for(datetime(2027, 1, 7, 6), time(9), BERLIN, utc(2027, 1, 5))


# cron runs


def test_a_weekly_cron_keeps_its_local_hour_across_spring_forward() -> None:
    runs = cron_runs("0 9 * * mon", BERLIN, utc(2027, 3, 1), utc(2027, 4, 1))
    assert runs == [
        utc(2027, 3, 1, 8),
        utc(2027, 3, 8, 8),
        utc(2027, 3, 15, 8),
        utc(2027, 3, 22, 8),
        utc(2027, 3, 29, 7),
    ]
    assert {run.astimezone(BERLIN).time() for run in runs} == {time(9)}


def test_a_weekly_cron_keeps_its_local_hour_across_fall_back() -> None:
    runs = cron_runs("0 9 * * 1", BERLIN, utc(2027, 10, 1), utc(2027, 11, 2))
    assert runs == [
        utc(2027, 10, 4, 7),
        utc(2027, 10, 11, 7),
        utc(2027, 10, 18, 7),
        utc(2027, 10, 25, 7),  # still summer time: clocks go back on the 31st
        utc(2027, 11, 1, 8),
    ]
    assert {run.astimezone(BERLIN).time() for run in runs} == {time(9)}


@pytest.mark.parametrize(("weekday", "day"), [("0", 7), ("7", 7), ("sun", 7), ("1", 1), ("mon", 1), ("5", 5), ("6", 6)])
def test_cron_day_of_week_counts_from_sunday(weekday: str, day: int) -> None:
    # 2027-03-01 is a Monday; the week's run of each day of week is on March `day`
    assert cron_runs(f"0 9 * * {weekday}", ZoneInfo("UTC"), utc(2027, 3, 1), utc(2027, 3, 8)) == [utc(2027, 3, day, 9)]


def test_cron_runs_are_after_exclusive_and_until_inclusive() -> None:
    runs = cron_runs("0 9 * * *", ZoneInfo("UTC"), utc(2027, 1, 5, 9), utc(2027, 1, 7, 9))
    assert runs == [utc(2027, 1, 6, 9), utc(2027, 1, 7, 9)]
    assert cron_runs("0 9 * * *", ZoneInfo("UTC"), utc(2027, 1, 7), utc(2027, 1, 5)) == []


def test_cron_day_of_month_or_day_of_week() -> None:
    # both restricted: the 13th (a Monday in September 2027) or any Friday
    runs = cron_runs("0 9 13 * fri", ZoneInfo("UTC"), utc(2027, 9, 1), utc(2027, 10, 1))
    assert [run.day for run in runs] == [3, 10, 13, 17, 24]
    # a starred day of month: both must hold (Mondays that are the 1st, 11th, 21st or 31st)
    runs = cron_runs("0 9 */10 * mon", ZoneInfo("UTC"), utc(2027, 1, 1), utc(2028, 1, 1))
    assert [(run.month, run.day) for run in runs] == [(1, 11), (2, 1), (3, 1), (5, 31), (6, 21), (10, 11), (11, 1)]


def test_cron_in_the_gap_is_shifted_and_in_the_fold_fires_once() -> None:
    daily = cron_runs("30 2 * * *", BERLIN, utc(2027, 3, 27), utc(2027, 3, 30))
    assert daily == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 30), utc(2027, 3, 29, 0, 30)]
    merged = cron_runs("0,30 2,3 * * *", BERLIN, utc(2027, 3, 28), utc(2027, 3, 28, 12))
    assert merged == [utc(2027, 3, 28, 1), utc(2027, 3, 28, 1, 30)]  # 02:00 = 03:00 and 02:30 = 03:30 CEST
    fold = cron_runs("30 2 * * *", BERLIN, utc(2027, 10, 30, 12), utc(2027, 10, 31, 12))
    assert fold == [utc(2027, 10, 31, 0, 30)]
    new_york = cron_runs("30 1 * * *", NEW_YORK, utc(2027, 11, 6, 12), utc(2027, 11, 8, 12))
    assert new_york == [utc(2027, 11, 7, 5, 30), utc(2027, 11, 8, 6, 30)]  # 01:30 EDT once, then EST


def test_cron_runs_stop_at_the_limit() -> None:
    runs = cron_runs("* * * * *", BERLIN, utc(2027, 1, 5), utc(2028, 1, 5), limit=3)
    assert runs == [utc(2027, 1, 5, 0, 1), utc(2027, 1, 5, 0, 2), utc(2027, 1, 5, 0, 3)]
    assert cron_runs("* * * * *", BERLIN, utc(2027, 1, 5), utc(2027, 1, 6)) == [
        utc(2027, 1, 5) + timedelta(minutes=n) for n in range(1, 1001)
    ]


@pytest.mark.parametrize("expr", ["0 9 * *", "61 9 * * *", "0 9 * * 8", "0 9 5-1 * *", "*/0 * * * *", "0 9 * foo *"])
def test_cron_runs_refuse_what_is_not_cron(expr: str) -> None:
    with pytest.raises(ValueError, match="bad cron expression"):
        cron_runs(expr, BERLIN, utc(2027, 1, 1), utc(2027, 2, 1))


def test_cron_runs_refuse_naive_bounds() -> None:
    with pytest.raises(ValueError, match="until"):
        cron_runs("0 9 * * *", BERLIN, utc(2027, 1, 1), datetime(2027, 2, 1))


@pytest.mark.parametrize(
    "expr", ["0 9 * * mon", "30 2 * * *", "*/20 1-3 * * *", "15 8 1,15 * *", "0 0 * * sat,sun", "5/20 4 */3 mar-apr *"]
)
def test_cron_runs_agree_with_the_scheduler(expr: str) -> None:
    """Where APScheduler 3 reads crontab as cron does (no numeric day of week), the runs are the ones it fires."""
    after, until = utc(2027, 3, 10), utc(2027, 4, 10)
    trigger = CronTrigger.from_crontab(expr, timezone=BERLIN)
    fired: list[datetime] = []
    now = after + timedelta(microseconds=1)  # (after, until]
    while (fire := trigger.get_next_fire_time(None, now)) is not None and fire <= until:
        fired.append(fire.astimezone(UTC))
        now = fire + timedelta(microseconds=1)
    assert fired
    assert cron_runs(expr, BERLIN, after, until) == fired


# run ids and delays


def test_run_id_is_the_utc_minute() -> None:
    assert run_id(berlin(2027, 1, 5, 10)) == "20270105T0900Z"
    assert run_id(utc(2027, 1, 5, 9, 0, 59)) == "20270105T0900Z"  # seconds are dropped
    assert run_id(datetime(2027, 1, 5, 4, tzinfo=NEW_YORK)) == "20270105T0900Z"  # the same instant, any zone
    assert run_id(utc(2027, 1, 5, 9, 1)) == "20270105T0901Z"


def test_run_ids_of_a_weekly_newsletter_are_distinct_and_repeatable() -> None:
    first = [run_id(run) for run in cron_runs("0 9 * * mon", BERLIN, utc(2027, 3, 1), utc(2027, 4, 1))]
    again = [run_id(run) for run in cron_runs("0 9 * * mon", BERLIN, utc(2027, 2, 28), utc(2027, 4, 1))]
    assert first == again == ["20270301T0800Z", "20270308T0800Z", "20270315T0800Z", "20270322T0800Z", "20270329T0700Z"]


def test_run_id_refuses_a_naive_moment() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run_id(datetime(2027, 1, 5, 9))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("3d", timedelta(days=3)),
        ("3 d", timedelta(days=3)),
        (" 90 m ", timedelta(minutes=90)),
        ("0m", timedelta(0)),
    ],
)
def test_parse_delay(text: str, expected: timedelta) -> None:
    assert parse_delay(text) == expected


@pytest.mark.parametrize("text", ["", "3", "d", "3w", "-3d", "+3d", "1.5h", "3D", "3dd", "3 days", "３d", "h3"])
def test_parse_delay_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="whole number"):
        parse_delay(text)


def test_parse_delay_refuses_a_delay_too_long() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_delay("99999999999d")

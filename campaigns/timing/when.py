"""When a campaign's messages go out: a schedule turned into delivery moments, database-free and DST-correct.

Every function takes and returns timezone-aware datetimes (the results are in UTC); a naive datetime is a
:class:`ValueError`. Wall-clock times (``time`` values such as a window's start) are read in the zone given and
any tzinfo on them is ignored.

Daylight saving time, the one rule used throughout (see :func:`local_moment`):

* a wall time that does not exist (spring forward, clocks jump 02:00 -> 03:00) is shifted forward by the gap:
  02:30 becomes 03:30 local, which is what Python's ``fold=0`` gives;
* a wall time that happens twice (fall back) is taken at its first occurrence (``fold=0``).

Windows and quiet hours are ``[start, end)`` in local wall time: the start is inside, the end is not; a window
whose end is earlier than its start wraps midnight (20:00-08:00: evenings and nights), and one whose start
equals its end is open all day.

Cron expressions are read as standard five-field cron, exactly as :func:`campaigns.file.definition.cron_problem`
accepts them (day of week 0 and 7 are Sunday; when both day of month and day of week are restricted, a day
matching either fires). They are expanded here with the standard library: APScheduler's import is kept to
``campaigns/scheduler.py`` (tests/test_architecture.py), and its 3.x ``CronTrigger.from_crontab`` reads day of
week 0 as Monday.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.file.definition import CRON_FIELDS, CRON_ITEM, Window, cron_problem
from storage.timezones import UnknownTimezone, parse_timezone

__all__ = [
    "cron_runs",
    "customer_zone",
    "due_for",
    "in_window",
    "local_moment",
    "next_allowed",
    "next_local",
    "next_open",
    "parse_delay",
    "quiet",
    "run_id",
]

# How many times next_allowed may move to a window start or a quiet-hours end. A feasible window and quiet
# hours settle in three moves (four on a DST day); more means the quiet hours cover the whole window.
MAX_MOVES = 8
DELAY = re.compile(r"([0-9]+)\s*([mhd])")
DELAY_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


def _wall(at: time) -> time:
    return at.replace(tzinfo=None, fold=0)


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant when the wall clock in ``tz`` shows ``at`` on ``day``.

    A wall time inside a spring-forward gap is shifted forward by the gap's length (02:30 on a day that jumps
    02:00 -> 03:00 is 03:30 local); one inside a fall-back fold is taken at its first occurrence.
    """
    return datetime.combine(day, _wall(at), tzinfo=tz).astimezone(UTC)


def next_local(at: time, tz: ZoneInfo, after: datetime) -> datetime:
    """The first instant at or after ``after`` when the wall clock in ``tz`` shows ``at`` (see :func:`local_moment`).

    That is today in ``tz`` when ``at`` has not passed there yet, else tomorrow.
    """
    after = _aware(after, "after")
    day = after.astimezone(tz).date()
    for offset in range(3):  # tomorrow always does; the third day only guards zones that skipped a whole day
        candidate = local_moment(day + timedelta(days=offset), at, tz)
        if candidate >= after:
            return candidate
    raise AssertionError("unreachable: a wall time two days later is after the moment")  # pragma: no cover


def in_window(moment: datetime, window_start: time, window_end: time, tz: ZoneInfo) -> bool:
    """Whether the wall clock in ``tz`` at ``moment`` is inside ``[window_start, window_end)``.

    The window wraps midnight when its end is earlier than its start; when both are equal it is always open.
    """
    now = _aware(moment, "moment").astimezone(tz).time().replace(fold=0)
    start, end = _wall(window_start), _wall(window_end)
    if start == end:
        return True
    if start < end:
        return start <= now < end
    return now >= start or now < end


def next_open(moment: datetime, window_start: time, window_end: time, tz: ZoneInfo) -> datetime:
    """``moment`` itself when it is inside the window (see :func:`in_window`), else the next window start (UTC).

    The start is placed by :func:`local_moment`, so a start inside a spring-forward gap opens the gap's length
    later that day, and a window lying wholly inside the gap is skipped to the next day.
    """
    moment = _aware(moment, "moment")
    if in_window(moment, window_start, window_end, tz):
        return moment.astimezone(UTC)
    candidate = next_local(window_start, tz, moment)
    for _ in range(3):
        if in_window(candidate, window_start, window_end, tz):
            return candidate
        candidate = next_local(window_start, tz, candidate + timedelta(microseconds=1))
    raise ValueError(f"the window {window_start}-{window_end} never opens in {tz.key}")  # pragma: no cover


def quiet(moment: datetime, quiet_start: time, quiet_end: time, tz: ZoneInfo) -> bool:
    """Whether ``moment`` falls in the quiet hours ``[quiet_start, quiet_end)`` of ``tz`` (see :func:`in_window`)."""
    return in_window(moment, quiet_start, quiet_end, tz)


def next_allowed(
    moment: datetime,
    tz: ZoneInfo,
    window: Window | tuple[time, time] | None = None,
    quiet: Window | tuple[time, time] | None = None,
) -> datetime:
    """The first instant at or after ``moment`` inside the window (if any) and outside the quiet hours (if any).

    ``window`` and ``quiet`` are :class:`~campaigns.file.definition.Window` values or ``(start, end)`` pairs of wall
    times in ``tz``. Raises :class:`ValueError` when the quiet hours leave no time at all: they cover the whole
    window, or their start equals their end (quiet all day).
    """
    open_hours, quiet_hours = _hours(window), _hours(quiet)
    candidate = _aware(moment, "moment").astimezone(UTC)
    for _ in range(MAX_MOVES):
        if open_hours is not None and not in_window(candidate, *open_hours, tz):
            candidate = next_open(candidate, *open_hours, tz)
        elif quiet_hours is not None and in_window(candidate, *quiet_hours, tz):
            quiet_start, quiet_end = quiet_hours  # all day when equal: the complement then never moves on
            candidate = next_open(candidate, quiet_end, quiet_start, tz)  # outside quiet hours = their complement
        else:
            return candidate
    raise ValueError(f"no time is left to send in {tz.key}: window {window}, quiet hours {quiet}")


def _hours(hours: Window | tuple[time, time] | None) -> tuple[time, time] | None:
    return (hours.start, hours.end) if isinstance(hours, Window) else hours


def customer_zone(name: str | None, shop: ZoneInfo) -> ZoneInfo:
    """The customer's IANA zone ``name``, or the shop's zone when the name is empty, blank or unknown."""
    if not name or not name.strip():
        return shop
    try:
        return parse_timezone(name.strip())
    except UnknownTimezone:
        return shop


def due_for(schedule_start: datetime | None, local_time: time | None, tz: ZoneInfo, now: datetime) -> datetime:
    """When a customer's row of a run is due, in UTC.

    The base is ``schedule_start`` when given, else ``now``. With ``local_time`` the row is due at the first
    ``local_time`` in the customer's zone ``tz`` at or after the base (:func:`next_local`); without, at the base.
    The result depends only on the base, so recomputing a run gives the same moments; when the start is in the
    past the row may be due in the past too (overdue: send now).
    """
    now = _aware(now, "now")
    base = _aware(schedule_start, "schedule_start") if schedule_start is not None else now
    if local_time is None:
        return base.astimezone(UTC)
    return next_local(local_time, tz, base)


def first_moment(
    start: datetime | None,
    local_time: time | None,
    tz: ZoneInfo,
    now: datetime,
    *,
    window: Window | tuple[time, time] | None = None,
    quiet: tuple[time, time] | None = None,
) -> datetime:
    """When a row for a customer in ``tz`` falls due: :func:`due_for` with ``local_time``, else the start (now
    when it is past), then the first moment the window and the quiet hours allow in ``tz``
    (:func:`next_allowed`; ValueError when quiet hours fill the day)."""
    moment = due_for(start, local_time, tz, now) if local_time else max(start or now, now)
    return next_allowed(moment, tz, window=window, quiet=quiet)


def _cron_numbers(text: str, low: int, high: int, names: list[str]) -> set[int]:
    numbers: set[int] = set()
    for item in text.split(","):
        match = CRON_ITEM.fullmatch(item.lower())
        if match is None:  # pragma: no cover - cron_problem has checked every item
            raise ValueError(f"{item!r} is not a cron value")
        first, last, step = match.group(2, 3, 4)
        if first is None:  # *
            start, stop = low, high
        else:  # a, a-b, a/n (from a to the top), a-b/n
            start = _cron_value(first, low, names)
            stop = _cron_value(last, low, names) if last is not None else high if step is not None else start
        numbers.update(range(start, stop + 1, int(step) if step else 1))
    return numbers


def _cron_value(text: str, low: int, names: list[str]) -> int:
    return int(text) if text.isdigit() else names.index(text) + low


def cron_runs(expr: str, tz: ZoneInfo, after: datetime, until: datetime, limit: int = 1000) -> list[datetime]:
    """The fire times of the five-field crontab ``expr``, read in ``tz``, in ``(after, until]``, in UTC and order.

    Standard cron: day of week 0 and 7 are Sunday, ``a/n`` steps from ``a`` to the field's top, and when both day
    of month and day of week are restricted (neither starts with ``*``) a day matching either fires. Wall times
    follow :func:`local_moment`: one in a spring-forward gap fires shifted forward by the gap (once, should it
    land on another fire time), one in a fall-back fold fires once. At most ``limit`` runs, the earliest.
    Raises :class:`ValueError` for an expression that is not standard cron.
    """
    problem = cron_problem(expr)
    if problem:
        raise ValueError(f"bad cron expression {expr!r}: {problem}")
    after, until = _aware(after, "after"), _aware(until, "until")
    if limit <= 0 or until <= after:
        return []
    fields = expr.split()
    minutes, hours, days, months, weekdays = (
        _cron_numbers(text, low, high, names) for text, (_, low, high, names) in zip(fields, CRON_FIELDS, strict=True)
    )
    weekdays = {n % 7 for n in weekdays}  # cron counts from Sunday = 0 (and 7)
    either = not fields[2].startswith("*") and not fields[4].startswith("*")
    moments = [time(hour, minute) for hour in sorted(hours) for minute in sorted(minutes)]

    found: set[datetime] = set()
    day, last_day = after.astimezone(tz).date(), until.astimezone(tz).date()
    full_at: date | None = None
    while day <= last_day and (full_at is None or day <= full_at + timedelta(days=1)):
        if day.month in months:
            by_month_day, by_weekday = day.day in days, day.isoweekday() % 7 in weekdays
            if (by_month_day or by_weekday) if either else (by_month_day and by_weekday):
                found.update(m for at in moments if after < (m := local_moment(day, at, tz)) <= until)
        if full_at is None and len(found) >= limit:
            full_at = day  # one more day: a gap-shifted time of this day may come after the next day's first
        day += timedelta(days=1)
    return sorted(found)[:limit]


def run_id(moment: datetime) -> str:
    """A stable id for the run at ``moment``: its UTC minute, e.g. ``20270105T0900Z`` (seconds are dropped)."""
    return _aware(moment, "moment").astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def parse_delay(text: str) -> timedelta:
    """A follow-up's ``after`` delay as a timedelta: minutes, hours or days, e.g. ``30m``, ``24h``, ``3 d``.

    Raises :class:`ValueError` for anything else (a fraction, a sign, another unit, a delay too long).
    """
    match = DELAY.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"a delay is a whole number of minutes, hours or days such as 30m, 24h or 3d; got {text!r}")
    try:
        return timedelta(**{DELAY_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise ValueError(f"the delay {text!r} is too long") from None

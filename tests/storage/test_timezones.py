"""One timezone parser: every bad name, whatever ZoneInfo raises for it, is the same clear error."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from storage.errors import ChatcastError
from storage.timezones import UnknownTimezone, parse_timezone

BAD = ["America", "Nope/Nope", "", "../etc/passwd", "/etc/passwd", "Europe/"]


@pytest.mark.parametrize("name", BAD)
def test_every_bad_name_is_one_error_naming_it(zone_files: str, name: str) -> None:
    with pytest.raises(UnknownTimezone) as caught:
        parse_timezone(name)
    assert str(caught.value) == f"unknown timezone {name!r} (use an IANA name such as Europe/Berlin)"
    assert caught.value.name == name
    assert isinstance(caught.value, ChatcastError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_a_known_name_is_its_zone(zone_files: str, name: str) -> None:
    assert parse_timezone(name) == ZoneInfo(name)


def test_a_folder_of_the_tzdata_package_is_unknown_not_a_crash(zone_files: str) -> None:
    if zone_files == "tzdata":  # the case the parser exists for: ZoneInfo itself raises an OSError here
        with pytest.raises(OSError):
            ZoneInfo("America")
    with pytest.raises(UnknownTimezone, match="'America'"):
        parse_timezone("America")


def test_a_suggestion_names_the_closest_zone() -> None:
    with pytest.raises(UnknownTimezone, match=r"unknown timezone 'Europe/Berln' \(did you mean 'Europe/Berlin'\?\)"):
        parse_timezone("Europe/Berln", suggest=True)
    with pytest.raises(UnknownTimezone, match=r"'Mars/Olympus' \(use an IANA name such as Europe/Berlin\)"):
        parse_timezone("Mars/Olympus", suggest=True)

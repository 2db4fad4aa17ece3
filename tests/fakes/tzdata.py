"""Timezones read from the ``tzdata`` package instead of the system's files, as on Windows or a slim container.

There a name that is a folder of the package (``America``) makes :class:`~zoneinfo.ZoneInfo` raise
``IsADirectoryError`` (Windows: ``PermissionError``) rather than ``ZoneInfoNotFoundError``. Where the real package is
not installed, a stand-in named ``tzdata`` serves the system's zone files the way the package does.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def system_zones() -> Path | None:
    """The system's folder of zone files, if it has one."""
    return next((Path(p) for p in zoneinfo.TZPATH if (Path(p) / "Europe" / "Berlin").is_file()), None)


@contextmanager
def zones_from_tzdata_package(scratch: Path) -> Iterator[bool]:
    """Within the block ``ZoneInfo`` reads the ``tzdata`` package only (a stand-in under ``scratch`` where it is
    not installed); yields False, changing nothing, where neither the package nor system zone files exist."""
    real = importlib.util.find_spec("tzdata") is not None
    system = system_zones()
    if not real and system is None:
        yield False
        return
    if not real:
        assert system is not None
        (scratch / "tzdata").mkdir(parents=True)
        (scratch / "tzdata" / "__init__.py").write_text("")
        (scratch / "tzdata" / "zones").write_text("".join(f"{z}\n" for z in sorted(zoneinfo.available_timezones())))
        (scratch / "tzdata" / "zoneinfo").symlink_to(system, target_is_directory=True)  # a namespace package
        sys.path.insert(0, str(scratch))
        importlib.invalidate_caches()
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        yield True
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
        if not real:
            sys.path.remove(str(scratch))
            for name in [m for m in sys.modules if m == "tzdata" or m.startswith("tzdata.")]:
                del sys.modules[name]
            importlib.invalidate_caches()

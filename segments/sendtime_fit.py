"""Fitting every customer's best send time from the database: stream customers and their engagement a chunk at a
time (pass one counts, sparse), fit each chunk against the persona priors and store it (pass two).

Memory stays flat in the number of events per chunk; what is kept between the passes is the sparse counts
(a few bytes per customer-hour with events). Customers without a timezone, or with one Python does not know,
are counted in the shop's zone, as their due times are (:func:`campaigns.timing.customer_zone`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from segments.sendtime import SOURCES, WEIGHTS, SendTimeModel, local_week_hours
from storage import sendtimes

HISTORY_DAYS = 365  # engagement older than this says little about today's habits


@dataclass
class FitReport:
    """What a fit did: customers fitted, by source, engagement events read, and the seconds each pass took."""

    customers: int = 0
    events: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class _Zones:
    """Timezone names -> codes into :attr:`zones` (code 0: the shop's, for none and for unknown names)."""

    def __init__(self, shop: ZoneInfo) -> None:
        self.codes: dict[str | None, int] = {None: 0}
        self.zones: list[ZoneInfo | None] = [None if shop.key == "UTC" else shop]

    def code(self, name: str | None) -> int:
        """The code of the zone called ``name``."""
        if name not in self.codes:
            try:
                zone = ZoneInfo(name.strip()) if name and name.strip() else None
            except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
                zone = None
            self.codes[name] = 0 if zone is None else len(self.zones)
            if zone is not None:
                self.zones.append(zone)
        return self.codes[name]


async def fit_send_times(personas: list[str], *, now: datetime, shop_zone: ZoneInfo, chunk: int = 50_000) -> FitReport:
    """Fit and store the best hour of every customer (``personas``: the shop's persona ids, in order)."""
    report, zones = FitReport(), _Zones(shop_zone)
    persona_codes = {p: i + 1 for i, p in enumerate(personas)}
    model = SendTimeModel(len(personas))
    ranges: list[tuple[int, int]] = []
    started, after = time.perf_counter(), 0
    while customers := await sendtimes.customers_after(after, chunk):
        first, after = customers[0][0], customers[-1][0]
        ids = np.array([c[0] for c in customers], dtype=np.int64)
        codes = np.array([persona_codes.get(c[1] or "", 0) for c in customers], dtype=np.int16)
        zone_codes = np.array([zones.code(c[2]) for c in customers], dtype=np.int64)
        events = await sendtimes.engagement(first, after, now - timedelta(days=HISTORY_DAYS), WEIGHTS)
        table = np.array(events, dtype=np.int64).reshape(-1, 3)  # customer id, UTC minute, weight
        owner, minutes = table[:, 0], table[:, 1]
        local = local_week_hours(minutes, zone_codes[np.searchsorted(ids, owner)], zones.zones)
        model.add(ids, codes, owner, local, table[:, 2].astype(np.float64))
        ranges.append((first, after))
        report.events += len(events)
    report.seconds["count"] = time.perf_counter() - started
    started = time.perf_counter()
    for (first, last), fitted in zip(ranges, model.fit(), strict=True):
        rows = list(
            zip(
                fitted.customers.tolist(), fitted.hours.tolist(), [SOURCES[s] for s in fitted.sources.tolist()],
                np.round(fitted.events, 3).tolist(), strict=True,
            )
        )  # fmt: skip
        report.customers += await sendtimes.save(first, last, rows, now)
        for code, n in enumerate(np.bincount(fitted.sources, minlength=len(SOURCES)).tolist()):
            if n:
                report.by_source[SOURCES[code]] = report.by_source.get(SOURCES[code], 0) + n
    report.seconds["fit"] = time.perf_counter() - started
    return report

"""Fitting every customer's best send time from the database: read the customers, then the engagement events in
pages in storage order (one scan of the table), each converted to the customer's local hour of the week, then
fit a chunk of customers at a time against the persona priors and store it.

Memory holds a few small arrays per customer and the events read (8 bytes each), sorted into chunks of customers
as they come; a chunk's customer x hour table exists only while it is fitted. Customers without a timezone, or
with one Python does not know, are counted in the shop's zone, as their due times are
(:func:`campaigns.timing.when.customer_zone`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from segments.sendtime import SOURCES, WEIGHTS, ChunkedEvents, Ints, SendTimeModel, local_week_hours
from storage import sendtimes
from storage.timezones import UnknownTimezone, parse_timezone

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
                zone = parse_timezone(name.strip()) if name and name.strip() else None
            except UnknownTimezone:
                zone = None
            self.codes[name] = 0 if zone is None else len(self.zones)
            if zone is not None:
                self.zones.append(zone)
        return self.codes[name]


def _positions(ids: Ints) -> Callable[[Ints], Ints]:
    """A function from customer ids to their positions in the sorted ``ids`` (-1 for none): a direct table when
    the ids are dense enough (the usual case: 4 bytes per id up to the largest), else a binary search."""
    if not len(ids):
        return lambda wanted: np.full(len(wanted), -1, dtype=np.int64)
    top = int(ids[-1])
    if top <= 4 * len(ids) + 1_000_000:
        table = np.full(top + 1, -1, dtype=np.int32)
        table[ids] = np.arange(len(ids), dtype=np.int32)
        return lambda wanted: np.where(wanted <= top, table[np.minimum(wanted, top)], -1).astype(np.int64)

    def search(wanted: Ints) -> Ints:
        found = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
        return np.where(ids[found] == wanted, found, -1)

    return search


async def fit_send_times(
    personas: list[str], *, now: datetime, shop_zone: ZoneInfo, chunk: int = 50_000, page: int = 500_000
) -> FitReport:
    """Fit and store the best hour of every customer (``personas``: the shop's persona ids, in order)."""
    report, zones, started = FitReport(), _Zones(shop_zone), time.perf_counter()
    persona_codes = {p: i + 1 for i, p in enumerate(personas)}
    ids: list[int] = []
    persona_of: list[int] = []
    zone_of: list[int] = []
    while customers := await sendtimes.customers_after(ids[-1] if ids else 0, 100_000):
        ids += [c[0] for c in customers]
        persona_of += [persona_codes.get(c[1] or "", 0) for c in customers]
        zone_of += [zones.code(c[2]) for c in customers]
    customer_ids = np.array(ids, dtype=np.int64)
    personas_array, zones_array = np.array(persona_of, dtype=np.int16), np.array(zone_of, dtype=np.int64)
    del ids, persona_of, zone_of
    if not len(customer_ids):
        return report
    position = _positions(customer_ids)
    events_by_chunk, after = ChunkedEvents(len(customer_ids), chunk), 0
    while events := await sendtimes.engagement(after, page, now - timedelta(days=HISTORY_DAYS), WEIGHTS):
        table = np.array(events, dtype=np.int64).reshape(-1, 4)  # event id, customer id, UTC minute, weight
        after, report.events = int(table[-1, 0]), report.events + len(events)
        index = position(table[:, 1])
        known = index >= 0  # a customer who signed up after the list was read waits for the next fit
        table, index = table[known], index[known]
        local = local_week_hours(table[:, 2], zones_array[index], zones.zones)
        events_by_chunk.add(index, local, table[:, 3].astype(np.float64))
    report.seconds["count"] = time.perf_counter() - started
    started = time.perf_counter()
    model = SendTimeModel(len(personas))
    starts = range(0, len(customer_ids), chunk)
    for b, first in enumerate(starts):
        index, hours, weights = events_by_chunk.take(b)
        mine = slice(first, first + chunk)
        owner = customer_ids[first + index]
        model.add(customer_ids[mine], personas_array[mine], owner, hours, weights.astype(np.float64))
    for first, fitted in zip(starts, model.fit(), strict=True):
        rows = list(
            zip(
                fitted.customers.tolist(), fitted.hours.tolist(), [SOURCES[s] for s in fitted.sources.tolist()],
                np.round(fitted.events, 3).tolist(), strict=True,
            )
        )  # fmt: skip
        last = int(customer_ids[min(first + chunk, len(customer_ids)) - 1])
        report.customers += await sendtimes.save(int(customer_ids[first]), last, rows, now)
        for code, n in enumerate(np.bincount(fitted.sources, minlength=len(SOURCES)).tolist()):
            if n:
                report.by_source[SOURCES[code]] = report.by_source.get(SOURCES[code], 0) + n
    report.seconds["fit"] = time.perf_counter() - started
    return report

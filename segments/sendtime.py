"""The best send time model: each customer's engagement counted by hour of the week in their timezone, smoothed,
blended with their persona's (itself blended with everyone's), and the best hour is the highest.

A customer's score for hour ``h`` is ``S[h] + ALPHA * P[h]``: ``S`` their weighted events (a reply counts
``WEIGHTS["replied"]``...) smoothed over neighbouring hours, ``P`` their persona's distribution. With a thin
history the persona's peak wins; a few events at one hour outweigh it. The source recorded is what
contributed more at the chosen hour: ``history``, else ``persona`` (when the persona has data of its own), else
``global``. Everything is numpy over chunks of customers, so a million customers fit in a few hundred MB.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

HOURS = 168  # hours in a week: 0 is Monday 00:00-01:00 local
# how much each kind of event says about attention: a "Not now" (snoozed) says they read it then, no more
WEIGHTS = {"read": 1, "snoozed": 1, "clicked": 2, "replied": 3}
ALPHA = 10.0  # weight of the persona prior, in weighted events
PERSONA_PSEUDO = 50.0  # a persona is blended with everyone's as if it had this many events of theirs
GLOBAL_PSEUDO = float(HOURS)  # everyone's is blended with a flat week (one event per hour)
SOURCES = ("history", "persona", "global")
_THURSDAY = 3  # 1970-01-01, the epoch's first day, was a Thursday (Monday is 0)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def week_hour(local_hours: Ints) -> Ints:
    """Hours since the epoch in local wall time -> hour of the week (0 = Monday 00:00)."""
    return ((local_hours // 24 + _THURSDAY) % 7) * 24 + local_hours % 24


def utc_offsets(hours: Ints, zone: ZoneInfo) -> Ints:
    """The UTC offset (seconds) of ``zone`` at each UTC hour: per day, hour by hour only on days it changes."""
    days, inverse = np.unique(hours // 24, return_inverse=True)
    start = np.array([_offset(d * 86400, zone) for d in days.tolist()], dtype=np.int64)
    end = np.array([_offset(d * 86400 + 86399, zone) for d in days.tolist()], dtype=np.int64)
    out = start[inverse]
    for i in np.flatnonzero(start != end).tolist():  # a DST change that day
        mask = inverse == i
        out[mask] = [_offset(h * 3600, zone) for h in hours[mask].tolist()]
    return out


def _offset(epoch: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def local_week_hours(utc_minutes: Ints, zone_codes: Ints, zones: Sequence[ZoneInfo | None]) -> Ints:
    """Each event's hour of the week in its customer's zone (``zones[code]``; None is UTC), DST-correct.

    Events come as minutes since the epoch (UTC): an hour would lose half an hour in zones such as India's.
    """
    local = utc_minutes.astype(np.int64, copy=True)
    for code in np.unique(zone_codes).tolist():
        zone = zones[code]
        if zone is not None:
            mask = zone_codes == code
            local[mask] += utc_offsets(local[mask] // 60, zone) // 60
    return week_hour(local // 60)


def smooth(counts: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """Half to the hour itself, a quarter to each neighbour, around the week (Sunday 23:00 meets Monday 00:00)."""
    return 0.5 * counts + 0.25 * (np.roll(counts, 1, axis=-1) + np.roll(counts, -1, axis=-1))


class ChunkedEvents:
    """Events sorted, as they come in any order, into chunks of customers (by index), so that each chunk is
    counted alone: no table of every customer x hour, no sort of every event."""

    def __init__(self, customers: int, chunk: int) -> None:
        self.chunk = chunk
        self._parts: list[list[tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]]] = [
            [] for _ in range(-(-customers // chunk))
        ]

    def add(self, index: Ints, hours: Ints, weights: Floats) -> None:
        """Keep events of the customers at ``index`` at ``hours`` of the week, with ``weights``."""
        bucket = index // self.chunk
        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(len(self._parts) + 1))
        keys = ((index % self.chunk) * HOURS + hours).astype(np.int32)[order]
        values = weights.astype(np.float32)[order]
        for b in np.flatnonzero(np.diff(bounds)).tolist():
            self._parts[b].append((keys[bounds[b] : bounds[b + 1]], values[bounds[b] : bounds[b + 1]]))

    def take(self, b: int) -> tuple[Ints, Ints, npt.NDArray[np.float32]]:
        """Chunk ``b``'s events, released: index within the chunk, hour of the week, weight."""
        parts, self._parts[b] = self._parts[b], []
        keys = np.concatenate([k for k, _ in parts]).astype(np.int64) if parts else np.empty(0, dtype=np.int64)
        values = np.concatenate([v for _, v in parts]) if parts else np.empty(0, dtype=np.float32)
        return keys // HOURS, keys % HOURS, values


@dataclass(frozen=True)
class Fitted:
    """One chunk's result: each customer's best hour, the source code (index in SOURCES) and weighted events."""

    customers: Ints
    hours: npt.NDArray[np.int16]
    sources: npt.NDArray[np.int8]
    events: npt.NDArray[np.float32]


class SendTimeModel:
    """Collects engagement a chunk of customers at a time (pass one), then fits each chunk (pass two).

    Persona code 0 means no persona (the global prior applies); codes 1.. index ``personas``.
    """

    def __init__(self, personas: int) -> None:
        self.totals = np.zeros((personas + 1, HOURS), dtype=np.float64)
        self._chunks: list[tuple[Ints, npt.NDArray[np.int16], npt.NDArray[np.int32], npt.NDArray[np.float32]]] = []

    def add(self, customers: Ints, personas: npt.NDArray[np.int16], owner: Ints, hours: Ints, weights: Floats) -> None:
        """Count a chunk: ``customers`` sorted ids with their persona codes; events by owner id, hour, weight."""
        n = len(customers)
        index = np.searchsorted(customers, owner)
        counts = np.bincount(index * HOURS + hours, weights=weights, minlength=n * HOURS)
        keys = np.flatnonzero(counts).astype(np.int32)  # kept sparse: most customer-hours have no event
        values = counts[keys].astype(np.float32)
        cells = personas[keys // HOURS].astype(np.int64) * HOURS + keys % HOURS
        self.totals += np.bincount(cells, weights=values, minlength=self.totals.size).reshape(self.totals.shape)
        self._chunks.append((customers, personas, keys, values))

    def priors(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
        """Each persona's hour distribution (row 0: everyone's), and whether it rests on data of its own."""
        everyone = self.totals[1:].sum(axis=0) + self.totals[0]
        base = (smooth(everyone) + GLOBAL_PSEUDO / HOURS) / (everyone.sum() + GLOBAL_PSEUDO)
        mass = self.totals.sum(axis=1, keepdims=True)
        priors = (smooth(self.totals) + PERSONA_PSEUDO * base) / (mass + PERSONA_PSEUDO)
        priors[0] = base
        own = mass[:, 0] >= PERSONA_PSEUDO
        own[0] = False
        return priors.astype(np.float32), own

    def fit(self) -> Iterator[Fitted]:
        """Each chunk's best hours, in the order the chunks were added (each is released once fitted)."""
        priors, own = self.priors()
        while self._chunks:
            customers, personas, keys, values = self._chunks.pop(0)
            n = len(customers)
            counts = np.bincount(keys, weights=values, minlength=n * HOURS).astype(np.float32).reshape(n, HOURS)
            mine = smooth(counts)
            prior = ALPHA * priors[personas]
            best = np.argmax(mine + prior, axis=1)
            rows = np.arange(n)
            sources = np.where(mine[rows, best] >= prior[rows, best], 0, np.where(own[personas], 1, 2))
            yield Fitted(customers, best.astype(np.int16), sources.astype(np.int8), counts.sum(axis=1))


def minutes_since_epoch(moment: datetime) -> int:
    """The UTC minute ``moment`` falls in, counted from 1970-01-01 00:00 UTC."""
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(minutes=1))

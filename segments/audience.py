"""Who is in a segment or persona, counted or listed by the database (no customer is loaded into Python)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from segments.compiler import FROM, Compiler
from segments.definitions import Definitions
from storage.sql import Params, fetch


@dataclass(frozen=True)
class Count:
    """How many customers a persona or segment holds."""

    kind: str
    id: str
    description: str
    customers: int


def compiler_for(defs: Definitions, dialect: str, as_of: datetime, *, correlated: bool = False) -> Compiler:
    """A compiler that knows the file's segments (for ``segment:`` references)."""
    return Compiler(Params(dialect), as_of, {s.id: s.when for s in defs.segments.values()}, correlated)


def members_sql(defs: Definitions, segment: str, compiler: Compiler) -> str:
    """``SELECT c.id ...`` of the customers in ``segment``; its parameters are in ``compiler.params``."""
    return f"SELECT c.id FROM {FROM} WHERE {compiler.rule(defs.segments[segment].when)}"


async def counts(defs: Definitions, dialect: str, as_of: datetime) -> tuple[int, list[Count]]:
    """All customers, then each persona (as assigned at the last refresh) and each segment (now)."""
    total = int((await fetch("SELECT COUNT(*) FROM customer"))[0][0])
    assigned = dict(await fetch("SELECT persona, COUNT(*) FROM customer GROUP BY persona"))
    out = [Count("persona", p.id, p.description, int(assigned.get(p.id, 0))) for p in defs.personas]
    known = {p.id for p in defs.personas}
    for stale in sorted(k for k in assigned if k is not None and k not in known):
        out.append(Count("persona", str(stale), "assigned earlier, not in this file: refresh", int(assigned[stale])))
    if assigned.get(None):
        out.append(Count("persona", "(not refreshed)", "no persona yet: run segments refresh", assigned[None]))
    for segment in defs.segments.values():
        compiler = compiler_for(defs, dialect, as_of)
        sql = f"SELECT COUNT(*) FROM {FROM} WHERE {compiler.rule(segment.when)}"
        n = int((await fetch(sql, compiler.params.values))[0][0])
        out.append(Count("segment", segment.id, segment.description, n))
    return total, out

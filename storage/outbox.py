"""The outbox: claiming due deliveries for a dispatcher and recording what their sends did, in set-based SQL.

A claim is one ``UPDATE ... RETURNING`` (with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; one statement is atomic
on SQLite): the row is ``claimed`` by its dispatcher, and ``sending`` only while its request is in flight
(:func:`mark_in_flight`, just before it). A dispatcher that dies leaves its ``claimed`` rows to be released (they
never left) and its ``sending`` ones ``unknown`` (they may have). Every recorder takes a whole batch in one
statement. Messages to one chat go out in the order they were queued: a row waits while an earlier one to the
same customer on the same channel is in flight or about to be retried (within :data:`ORDER_WAIT`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage import identities
from storage.db import dialect
from storage.installations import PARKED
from storage.models import Event
from storage.sql import Params, conn, execute, fetch, transaction, values_source

FINAL = ("sent", "failed", "unknown", "skipped", "holdout")
LIVE = ("claimed", "sending")  # owned by a dispatcher: reserved, or its request in flight
ORDER_WAIT = timedelta(minutes=10)  # the longest a message waits for an earlier one to the same chat being retried
TRANSACTIONAL = ("notices", "replies")  # the built-in campaigns' kinds: order notices, chat replies
_TRANSACTIONAL_SQL = "(" + ", ".join(f"'{kind}'" for kind in TRANSACTIONAL) + ")"
_PG_TYPES = {int: "bigint", str: "text", datetime: "timestamptz"}


@dataclass(frozen=True)
class Claimed:
    """A row a dispatcher now owns: what its send needs; ``skipped`` names why the claim skipped it instead."""

    id: int
    campaign_id: int
    step: str
    customer_id: int
    channel: str
    address: str | None
    text: str | None
    buttons: list[dict[str, str]]
    attempts: int
    skipped: str | None = None
    image_url: str | None = None
    image_alt: str | None = None
    pieces: tuple[str, ...] = ()  # the ids of a split message's pieces that earlier attempts sent
    kind: str = "marketing"  # its campaign's kind: marketing, or a built-in one (TRANSACTIONAL)


def _clean(value: str) -> str:
    return value.replace("\x00", "\ufffd")


def _rows(q: Params, rows: Sequence[tuple[Any, ...]]) -> str:
    """A ``FROM`` source ``v`` of ``rows`` (typed by their first row's values)."""
    return values_source(q, rows, [_PG_TYPES[type(x)] for x in rows[0]])


async def claim(worker: str, limit: int, now: datetime, channels: Collection[str]) -> list[Claimed]:
    """Move up to ``limit`` due rows of running campaigns to ``sending`` for ``worker`` (opted-out or unreachable
    customers' rows, and those of workspaces that no longer have the app, to ``skipped`` instead, returned with
    ``skipped`` set), oldest due first."""
    if limit <= 0 or not channels:
        return []
    await _date_undated(now)
    return await _claim(worker, limit, now, channels, None)


async def claim_rows(worker: str, ids: Collection[int], now: datetime, channels: Collection[str]) -> list[Claimed]:
    """Claim the rows ``ids`` as :func:`claim` would, due or not (a reply sent the moment it is queued); those
    another worker claimed first, or already final, are left out."""
    if not ids or not channels:
        return []
    return await _claim(worker, len(ids), now, channels, ids)


async def _claim(
    worker: str, limit: int, now: datetime, channels: Collection[str], ids: Collection[int] | None
) -> list[Claimed]:
    q = Params(dialect())
    who, at, chans = q.text(worker), q.moment(now), q.texts(sorted(channels))
    if ids is None:
        which = f"d.due_at <= {at} AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= {at})"
    else:
        which = "d.id IN (" + ", ".join(q.add(int(i)) for i in sorted(ids)) + ")"
    lock = " FOR UPDATE OF d SKIP LOCKED" if q.dialect == "postgres" else ""
    bound = q.moment(now + ORDER_WAIT)
    skip = "pick.opted_out OR pick.unreachable OR pick.uninstalled"
    sql = (
        "UPDATE delivery SET "
        f"status = CASE WHEN {skip} THEN 'skipped' ELSE 'claimed' END, "
        "note = CASE WHEN pick.opted_out THEN pick.stopped WHEN pick.unreachable THEN 'unreachable' "
        f"WHEN pick.uninstalled THEN '{PARKED}' ELSE delivery.note END, "
        f"attempts = delivery.attempts + CASE WHEN {skip} THEN 0 ELSE 1 END, claimed_by = {who}, claimed_at = {at}, "
        "address = COALESCE(delivery.address, (SELECT i.address FROM channel_identity i "
        "WHERE i.customer_id = delivery.customer_id AND i.channel = delivery.channel ORDER BY i.id LIMIT 1)) "
        "FROM (SELECT d.id, "
        # order notices heed the customer's notices switch; replies answer whoever asked; the rest, marketing consent
        "EXISTS (SELECT 1 FROM customer c JOIN campaign k ON k.id = d.campaign_id WHERE c.id = d.customer_id AND "
        "CASE WHEN k.kind = 'notices' THEN c.notices_off_at IS NOT NULL WHEN k.kind = 'replies' THEN 1 = 0 "
        "ELSE c.opted_out_at IS NOT NULL END) "
        "AS opted_out, (SELECT CASE WHEN k.kind = 'notices' THEN 'notices_off' ELSE 'opted_out' END "
        "FROM campaign k WHERE k.id = d.campaign_id) AS stopped, "
        "EXISTS (SELECT 1 FROM channel_identity i WHERE i.channel = d.channel AND i.address = d.address "
        "AND NOT i.reachable) AS unreachable, "
        # the app is no longer installed in the chat's workspace: parked, nobody's consent changed
        "EXISTS (SELECT 1 FROM installation w WHERE w.channel = d.channel AND NOT w.active AND w.scope <> '' "
        "AND substr(d.address, 1, length(w.scope)) = w.scope) AS uninstalled "
        f"FROM delivery d WHERE d.status = 'queued' AND d.channel IN {chans} AND {which} "
        "AND d.campaign_id IN (SELECT c.id FROM campaign c WHERE c.status = 'running') "
        # one chat reads its messages in the order they were queued: an earlier one in flight, or about to be
        # retried, goes first
        "AND NOT EXISTS (SELECT 1 FROM delivery e WHERE e.customer_id = d.customer_id AND e.channel = d.channel "
        "AND (e.due_at < d.due_at OR (e.due_at = d.due_at AND e.id < d.id)) AND (e.status IN ('claimed', 'sending') "
        f"OR (e.status = 'queued' AND e.next_attempt_at > {at} AND e.next_attempt_at <= {bound}))) "
        f"ORDER BY d.due_at, d.id LIMIT {q.add(limit)}{lock}) AS pick "
        "WHERE delivery.id = pick.id RETURNING delivery.id, delivery.campaign_id, delivery.step, "
        "delivery.customer_id, delivery.channel, delivery.address, delivery.text, delivery.buttons, "
        "delivery.attempts, delivery.status, delivery.note, delivery.image_url, delivery.image_alt, delivery.pieces, "
        "(SELECT k.kind FROM campaign k WHERE k.id = delivery.campaign_id)"
    )
    claimed = [_claimed(row) for row in await _returning(sql, q.values)]
    return sorted(claimed, key=lambda c: c.id)


async def _date_undated(now: datetime) -> None:
    """Queued rows without a due time are due now: give them that time, so that the claim reads the (status,
    due_at) index in order instead of sorting every queued row (an ``OR due_at IS NULL`` would)."""
    q = Params(dialect())
    sql = f"UPDATE delivery SET due_at = {q.moment(now)} WHERE status = 'queued' AND due_at IS NULL"
    await execute(sql, q.values)


async def _returning(sql: str, values: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of a statement's ``RETURNING`` (tortoise's execute_query drops them for an UPDATE on PostgreSQL)."""
    return [tuple(row.values()) for row in await conn().execute_query_dict(sql, values)]


def _json(value: Any) -> Any:
    """A JSON column as a raw query returns it: text on SQLite, decoded or text on PostgreSQL."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _claimed(r: tuple[Any, ...]) -> Claimed:
    buttons = list(_json(r[7]) or ())
    skipped = r[10] if r[9] == "skipped" else None
    pieces = tuple(str(p) for p in _json(r[13]) or ())
    return Claimed(
        int(r[0]),
        int(r[1]),
        r[2],
        int(r[3]),
        r[4],
        r[5],
        r[6],
        buttons,
        int(r[8]),
        skipped,
        r[11],
        r[12],
        pieces,
        str(r[14] or "marketing"),
    )


async def _update(sets: str, rows: Sequence[tuple[Any, ...]], guard: Sequence[str] = LIVE) -> int:
    """``UPDATE delivery SET <sets> FROM v`` for the rows whose id is ``v.column1`` and whose status is in ``guard``
    (a dispatcher's own: claimed or sending)."""
    if not rows:
        return 0
    q = Params(dialect())
    source = _rows(q, rows)
    statuses = ", ".join(f"'{status}'" for status in ((guard,) if isinstance(guard, str) else guard))
    sql = f"UPDATE delivery SET {sets} FROM {source} WHERE delivery.id = v.column1 AND delivery.status IN ({statuses})"
    return await execute(sql, q.values)


async def mark_in_flight(worker: str, ids: Collection[int], now: datetime, tracked: Collection[int] = ()) -> set[int]:
    """The rows ``ids`` of ``worker`` are about to be sent: ``claimed`` -> ``sending``, noting whether each goes with
    its links tracked (those of ``tracked``); those it still owned (only they may be sent: one released meanwhile
    belongs to nobody)."""
    if not ids:
        return set()
    q = Params(dialect())
    listed = ", ".join(q.add(int(i)) for i in sorted(ids))
    marked = ", ".join(q.add(int(i)) for i in sorted(set(tracked) & set(ids)))
    links = f"id IN ({marked})" if marked else "1 = 0"
    sql = (
        f"UPDATE delivery SET status = 'sending', claimed_at = {q.moment(now)}, links_tracked = {links} "
        f"WHERE id IN ({listed}) AND status = 'claimed' AND claimed_by = {q.text(worker)} RETURNING id"
    )
    return {int(r[0]) for r in await _returning(sql, q.values)}


async def touch(worker: str, ids: Collection[int], now: datetime) -> int:
    """The heartbeat of a live dispatcher: the claims of the rows ``ids`` it holds are renewed, so that no sweep
    takes them for a dead one's (:func:`recover` with ``older_than``); how many."""
    if not ids:
        return 0
    q = Params(dialect())
    listed = ", ".join(q.add(int(i)) for i in sorted(ids))
    sql = (
        f"UPDATE delivery SET claimed_at = {q.moment(now)} WHERE id IN ({listed}) AND claimed_by = {q.text(worker)} "
        "AND status IN ('claimed', 'sending')"
    )
    return await execute(sql, q.values)


async def mark_sent(results: Sequence[tuple[int, str, datetime]]) -> int:
    """Record receipts: (id, provider message id, sent at) for each row sent."""
    sets = "status = 'sent', provider_message_id = v.column2, sent_at = v.column3, next_attempt_at = NULL"
    return await _update(sets, [(i, _clean(m), at) for i, m, at in results])


async def note_pieces(rows: Sequence[tuple[int, Sequence[str]]]) -> int:
    """Record which pieces of split messages went out: (id, the ids of every piece sent so far, in order), for rows
    still ``sending``; the next attempt sends only the rest, and a sent row keeps them all."""
    value = "CAST(v.column2 AS JSONB)" if dialect() == "postgres" else "v.column2"
    return await _update(f"pieces = {value}", [(i, json.dumps([_clean(p) for p in ids])) for i, ids in rows])


async def mark_failed(failures: Sequence[tuple[int, str]]) -> int:
    """Record rows that will not be retried: (id, error)."""
    return await _update("status = 'failed', error = v.column2", [(i, _clean(e)) for i, e in failures])


async def requeue(retries: Sequence[tuple[int, datetime, str]], *, refund: bool = False) -> int:
    """Put rows back in the queue until ``next_attempt_at``: (id, next attempt at, error); ``refund`` un-counts
    the attempt (a rate limit is not the message's fault)."""
    less = " - 1" if refund else ""
    sets = f"status = 'queued', next_attempt_at = v.column2, error = v.column3, attempts = delivery.attempts{less}"
    return await _update(sets, [(i, at, _clean(e)) for i, at, e in retries])


async def skip(rows: Sequence[tuple[int, str]]) -> int:
    """Mark claimed rows ``skipped``: (id, note)."""
    return await _update("status = 'skipped', note = v.column2", rows)


async def mark_unknown(rows: Sequence[tuple[int, str]]) -> int:
    """Mark claimed rows whose send may or may not have happened ``unknown`` (never resent): (id, error)."""
    return await _update("status = 'unknown', error = v.column2", [(i, _clean(e)) for i, e in rows])


async def skip_customer(customer_id: int, channel: str, reason: str) -> int:
    """Skip the customer's other queued rows on ``channel``, noting ``reason``."""
    q = Params(dialect())
    sql = (
        f"UPDATE delivery SET status = 'skipped', note = {q.text(reason)} WHERE customer_id = {q.add(customer_id)} "
        f"AND channel = {q.text(channel)} AND status = 'queued'"
    )
    return await execute(sql, q.values)


async def customer_left(
    channel: str,
    address: str,
    customer_id: int,
    *,
    reason: str,
    error: str,
    at: datetime,
    delivery_id: int | None = None,
) -> int:
    """The customer left the chat (blocked the bot, their account is gone: ``reason``), as a send or the platform
    found: the chat is unreachable, they are opted out with an ``opted_out`` event saying why (once: a second
    finding changes nothing), and their rows not yet claimed are skipped, their journeys ended; how many."""
    await mark_unreachable(channel, address, error)
    if await identities.withdraw(customer_id, at=at, source=f"{channel}:{reason}"):
        data = {"channel": channel, "reason": reason, "error": error}
        await identities.add_event("opted_out", at=at, customer_id=customer_id, delivery_id=delivery_id, data=data)
    return await skip_unsent(customer_id, reason, channel)


async def skip_unsent(customer_id: int, reason: str, channel: str) -> int:
    """Skip the customer's rows not yet claimed (they left: their journeys end): marketing on any channel, order
    notices and replies only on ``channel`` (the one they left; a notice due on another chat still reaches them
    there)."""
    q = Params(dialect())
    sql = (
        f"UPDATE delivery SET status = 'skipped', note = {q.text(reason)} WHERE customer_id = {q.add(customer_id)} "
        f"AND status IN ('planned', 'queued') AND (channel = {q.text(channel)} "
        f"OR campaign_id NOT IN (SELECT id FROM campaign WHERE kind IN {_TRANSACTIONAL_SQL}))"
    )
    return await execute(sql, q.values)


async def mark_unreachable(channel: str, address: str, error: str) -> bool:
    """Stop sending to a chat address (blocked, deactivated, gone); False when the address is unknown."""
    return await identities.mark_unreachable(channel, address, error)


async def move_address(channel: str, old: str, new: str) -> None:
    """Follow a migrated chat: its identity and its unsent rows move to ``new``."""
    async with transaction():
        await identities.move_address(channel, old, new)
        q = Params(dialect())
        sql = (
            f"UPDATE delivery SET address = {q.text(new)} WHERE channel = {q.text(channel)} "
            f"AND address = {q.text(old)} AND status IN ('planned', 'queued', 'claimed', 'sending')"
        )
        await execute(sql, q.values)


@dataclass(frozen=True)
class Recovered:
    """What a dead dispatcher left: rows released (claimed, never sent: queued again) and rows now ``unknown``
    (their request was in flight: never resent)."""

    released: int = 0
    unknown: int = 0


async def recover(worker: str | None = None, older_than: datetime | None = None) -> Recovered:
    """What a dead dispatcher left (``worker``'s rows, or those whose claim was last renewed before ``older_than``):
    ``claimed`` rows are released to the queue (the attempt not counted), ``sending`` ones become ``unknown``."""
    if worker is None and older_than is None:
        raise ValueError("recover needs a worker or a cutoff")
    q = Params(dialect())
    which = [f"claimed_by = {q.text(worker)}"] if worker is not None else []
    which += [f"claimed_at < {q.moment(older_than)}"] if older_than is not None else []
    where = " OR ".join(which)
    async with transaction():
        unknown = await execute(
            "UPDATE delivery SET status = 'unknown', error = 'the dispatcher stopped while sending' "
            f"WHERE status = 'sending' AND ({where})",
            q.values,
        )
        released = await execute(
            "UPDATE delivery SET status = 'queued', attempts = attempts - 1, claimed_by = NULL "
            f"WHERE status = 'claimed' AND ({where})",
            q.values,
        )
    return Recovered(released=released, unknown=unknown)


RECONCILED_SENT = "delivered (reconciled)"
RECONCILED_NOT_SENT = "not delivered (reconciled)"
RECONCILED_AGAIN = "not delivered (reconciled): queued again"


@dataclass(frozen=True)
class UnknownRow:
    """An ``unknown`` row as reconciliation needs it: where it went, when it was claimed (its request came after),
    how many attempts it had, its campaign's status; ``overtaken``: a later message of the customer on that channel
    has been sent (or sent for) since its claim, so that sending it now would arrive out of order."""

    id: int
    address: str
    claimed_at: datetime
    attempts: int
    campaign_status: str
    overtaken: bool


async def unknown_rows(channel: str, limit: int = 1000) -> list[UnknownRow]:
    """The channel's ``unknown`` rows that have an address and a claim time, oldest claim first."""
    q = Params(dialect())
    sql = (
        "SELECT d.id, d.address, d.claimed_at, d.attempts, c.status, CASE WHEN EXISTS (SELECT 1 FROM delivery l "
        "WHERE l.customer_id = d.customer_id AND l.channel = d.channel AND l.id <> d.id "
        "AND l.claimed_at > d.claimed_at AND l.status IN ('sending', 'sent', 'unknown')) THEN 1 ELSE 0 END "
        "FROM delivery d JOIN campaign c ON c.id = d.campaign_id "
        f"WHERE d.status = 'unknown' AND d.channel = {q.text(channel)} AND d.address IS NOT NULL "
        f"AND d.claimed_at IS NOT NULL ORDER BY d.claimed_at, d.id LIMIT {q.add(limit)}"
    )
    out = []
    for ident, address, claimed_at, attempts, status, overtaken in await fetch(sql, q.values):
        moment = _moment(claimed_at)
        if moment is not None:
            out.append(UnknownRow(int(ident), str(address), moment, int(attempts), str(status), bool(overtaken)))
    return out


async def reconciled_sent(results: Sequence[tuple[int, str, datetime]]) -> int:
    """``unknown`` rows found delivered on the platform become ``sent``: (id, provider message id, posted at)."""
    sets = (
        "status = 'sent', provider_message_id = v.column2, sent_at = v.column3, next_attempt_at = NULL, "
        f"error = '{RECONCILED_SENT}'"
    )
    return await _update(sets, [(i, _clean(m), at) for i, m, at in results], guard=("unknown",))


async def reconciled_failed(ids: Sequence[int]) -> int:
    """``unknown`` rows certainly not delivered, and not to be sent again, become ``failed``."""
    return await _update(f"status = 'failed', error = '{RECONCILED_NOT_SENT}'", [(i,) for i in ids], guard=("unknown",))


async def reconciled_requeue(ids: Sequence[int], now: datetime) -> int:
    """``unknown`` rows certainly not delivered go back to the queue, due at ``now`` (the dispatcher sends them); a
    campaign that was ``done`` because they were final runs again until they are."""
    if not ids:
        return 0
    sets = f"status = 'queued', next_attempt_at = v.column2, error = '{RECONCILED_AGAIN}'"
    async with transaction():
        queued = await _update(sets, [(i, now) for i in ids], guard=("unknown",))
        q = Params(dialect())
        sql = (
            f"UPDATE campaign SET status = 'running', updated_at = {q.moment(now)} WHERE status = 'done' AND id IN "
            f"(SELECT d.campaign_id FROM delivery d WHERE d.id IN ({', '.join(q.add(int(i)) for i in ids)}) "
            "AND d.status = 'queued')"
        )
        await execute(sql, q.values)
    return queued


async def campaign_yaml(campaign_id: int) -> str | None:
    """The campaign file a campaign was registered with."""
    q = Params(dialect())
    rows = await fetch(f"SELECT yaml FROM campaign WHERE id = {q.add(campaign_id)}", q.values)
    return str(rows[0][0]) if rows and rows[0][0] else None


async def is_transactional(campaign_id: int) -> bool:
    """Whether the campaign is a built-in one, the order notices or the chat replies: no frequency cap, no
    suppression (a customer is told "shipped", and answered, whatever marketing's rules)."""
    q = Params(dialect())
    rows = await fetch(f"SELECT kind FROM campaign WHERE id = {q.add(campaign_id)}", q.values)
    return bool(rows) and rows[0][0] in TRANSACTIONAL


async def recent_sends(customer_ids: Sequence[int], since: datetime) -> dict[int, list[datetime]]:
    """When each customer was sent marketing messages after ``since`` (order notices and replies never count)."""
    if not customer_ids:
        return {}
    q = Params(dialect())
    ids = ", ".join(q.add(int(i)) for i in customer_ids)
    sql = (
        f"SELECT customer_id, sent_at FROM delivery WHERE customer_id IN ({ids}) AND status = 'sent' "
        f"AND sent_at > {q.moment(since)} "
        f"AND campaign_id NOT IN (SELECT id FROM campaign WHERE kind IN {_TRANSACTIONAL_SQL})"
    )
    out: dict[int, list[datetime]] = {}
    for customer_id, sent_at in await fetch(sql, q.values):
        moment = _moment(sent_at)
        if moment is not None:
            out.setdefault(int(customer_id), []).append(moment)
    return out


async def campaign_counts(campaign_id: int) -> dict[str, int]:
    """How many rows of the campaign are in each status."""
    q = Params(dialect())
    sql = f"SELECT status, COUNT(*) FROM delivery WHERE campaign_id = {q.add(campaign_id)} GROUP BY status"
    return {str(status): int(n) for status, n in await fetch(sql, q.values)}


async def pause_campaign(campaign_id: int, reason: str, at: datetime) -> bool:
    """Pause a running campaign and record a ``campaign_paused`` event saying why; False if it was not running, or
    is the order notices (each notice stands alone and its words are fixed: one failing says nothing of the next)."""
    async with transaction():
        q = Params(dialect())
        sql = (
            f"UPDATE campaign SET status = 'paused', updated_at = {q.moment(at)} "
            f"WHERE id = {q.add(campaign_id)} AND status = 'running' AND kind NOT IN {_TRANSACTIONAL_SQL}"
        )
        if not await execute(sql, q.values):
            return False
        await Event.create(type="campaign_paused", campaign_id=campaign_id, at=at, data={"reason": reason})
        return True


async def finish_campaigns(at: datetime) -> list[int]:
    """Running campaigns without follow-ups that have rows and whose rows are all final become ``done``; their ids.
    A campaign with follow-ups is closed by the follow-up sweep's side (:mod:`campaigns.timing.windows`), which knows
    their windows: a row that is final says nothing of the follow-up its send may still bring."""
    q = Params(dialect())
    final = ", ".join(f"'{s}'" for s in FINAL)
    sql = (
        f"UPDATE campaign SET status = 'done', updated_at = {q.moment(at)} WHERE status = 'running' "
        f"AND next_run_at IS NULL AND kind NOT IN {_TRANSACTIONAL_SQL} AND follow_up_steps = 0 "  # built-ins never end
        "AND EXISTS (SELECT 1 FROM delivery d WHERE d.campaign_id = campaign.id) "
        f"AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.campaign_id = campaign.id AND d.status NOT IN ({final})) "
        "RETURNING id"
    )
    return sorted(int(r[0]) for r in await _returning(sql, q.values))


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def next_due(now: datetime, channels: Collection[str], *, retries_only: bool = False) -> datetime | None:
    """When the next queued row of a running campaign falls due after ``now`` (``retries_only``: only rows
    already due that wait for a retry), or None."""
    if not channels:
        return None
    q = Params(dialect())
    at, chans = q.moment(now), q.texts(sorted(channels))
    base = (
        f"FROM delivery d WHERE d.status = 'queued' AND d.channel IN {chans} "
        "AND d.campaign_id IN (SELECT c.id FROM campaign c WHERE c.status = 'running')"
    )
    retry = f"SELECT MIN(d.next_attempt_at) {base} AND (d.due_at IS NULL OR d.due_at <= {at})"
    later = f"SELECT MIN(d.due_at) {base} AND d.due_at > {at}"
    found = [_moment(r[0]) for sql in ([retry] if retries_only else [retry, later]) for r in await fetch(sql, q.values)]
    moments = [m for m in found if m is not None]
    return min(moments) if moments else None


async def due_waiting(now: datetime, channels: Collection[str]) -> int:
    """Queued rows of running campaigns already due that wait for a later attempt (a retry, a frequency cap)."""
    if not channels:
        return 0
    q = Params(dialect())
    at, chans = q.moment(now), q.texts(sorted(channels))
    sql = (
        f"SELECT COUNT(*) FROM delivery d WHERE d.status = 'queued' AND d.channel IN {chans} "
        f"AND d.due_at <= {at} AND d.next_attempt_at > {at} "
        "AND d.campaign_id IN (SELECT c.id FROM campaign c WHERE c.status = 'running')"
    )
    rows = await fetch(sql, q.values)
    return int(rows[0][0]) if rows else 0

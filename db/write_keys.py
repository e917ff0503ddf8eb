"""What each keyed mutation field wrote (migration 0006_write_keys): recorded in the write's
own transaction, looked up by its retries, pruned after the idempotency TTL. Which key and
field a write belongs to, and what a retry then answers, is the resolvers' and the HTTP
edge's business (resolvers/mutations.py, server/idempotency.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from db.pool import Connection

# The result a field recorded for the key within the last $4 seconds, and its fingerprint.
RECORDED = """
select fingerprint, result::text from write_keys
where viewer_id = $1 and key = $2 and field = $3
  and created_at > now() - make_interval(secs => $4)
"""
# Records a field's result; replaces an expired record of the same key and field (none left:
# a record that has not expired is there, and the caller's transaction must not commit).
RECORD = """
insert into write_keys (viewer_id, key, field, fingerprint, result)
values ($1, $2, $3, $4, $5::jsonb)
on conflict (viewer_id, key, field) do update
set fingerprint = excluded.fingerprint, result = excluded.result, created_at = now()
where write_keys.created_at <= now() - make_interval(secs => $6)
returning true
"""
# Whether this transaction is the one pruning now (every worker of every host tries).
PRUNING = "select pg_try_advisory_xact_lock(hashtext('pinql.write_keys.prune'))"
# Deletes up to $2 records older than $1 seconds; how many.
PRUNE = """
with expired as (
    select viewer_id, key, field from write_keys
    where created_at <= now() - make_interval(secs => $1)
    limit $2
)
delete from write_keys w using expired e
where w.viewer_id = e.viewer_id and w.key = e.key and w.field = e.field
"""


@dataclass(slots=True)
class WriteKey:
    """A keyed mutation's Idempotency-Key, under which each of its root fields records what
    it wrote; `replayed` counts the fields answered from an earlier request's record."""

    key: str
    fingerprint: str
    """The request's fingerprint (server/idempotency.py `request_fingerprint`)."""
    ttl_seconds: int
    replayed: int = 0


@dataclass(frozen=True, slots=True)
class Recorded:
    """A field's record: the request it was made for, and what the write returned."""

    fingerprint: str
    result: Any


class RecordExists(Exception):
    """Another request recorded this key and field first (it committed while this one ran):
    this transaction must roll back, and the record be read."""


async def recorded(
    conn: Connection, viewer: int, key: str, field: str, ttl_seconds: int
) -> Recorded | None:
    """The field's unexpired record for the viewer's key, if any."""
    row = await conn.fetchrow(RECORDED, viewer, key, field, float(ttl_seconds))
    if row is None:
        return None
    return Recorded(row["fingerprint"], _restored(orjson.loads(row["result"])))


async def record(
    conn: Connection,
    viewer: int,
    key: str,
    field: str,
    fingerprint: str,
    result: Any,
    ttl_seconds: int,
) -> None:
    """Records the field's result in the caller's transaction; RecordExists when an
    unexpired record is there (made by a request that committed meanwhile)."""
    written = await conn.fetchval(
        RECORD, viewer, key, field, fingerprint, orjson.dumps(result).decode(), float(ttl_seconds)
    )
    if not written:
        raise RecordExists(f"key {key!r}, field {field!r}")


async def prune(conn: Connection, ttl_seconds: int, batch: int = 10_000) -> int:
    """Deletes up to `batch` expired records, in the caller's transaction, unless another
    transaction is pruning; how many."""
    if not await conn.fetchval(PRUNING):
        return 0
    status = await conn.execute(PRUNE, float(ttl_seconds), batch)
    return int(status.split()[-1])


def _restored(value: Any) -> Any:
    """A result as the write returned it: JSON arrays back to tuples."""
    if isinstance(value, list):
        return tuple(_restored(item) for item in value)
    return value

"""Registered clients in PostgreSQL: each client's persisted-query policy and the SHA-256 of
its key (and of its previous key during a rotation's grace period). Keys themselves are never
stored; making and checking them is the HTTP edge's job (server/client_keys.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.pool import Connection

# Registers a client; returns nothing when the name is taken.
ADD = """
insert into clients (name, policy, key_hash) values ($1, $2::jsonb, $3)
on conflict (name) do nothing
returning name
"""
# Every client, by name.
ALL = """
select name, policy::text as policy, key_hash, previous_key_hash, previous_expires_at,
       created_at, rotated_at
from clients order by name
"""
# Replaces a client's key; the current one stays valid for $3 seconds. A rotation inside a
# grace period ends the older key's grace at once: at most two keys are ever valid.
ROTATE = """
update clients
set previous_key_hash = key_hash,
    previous_expires_at = now() + make_interval(secs => $3),
    key_hash = $2,
    rotated_at = now()
where name = $1
returning name
"""
# Changes a client's policy.
SET_POLICY = "update clients set policy = $2::jsonb where name = $1 returning name"
# Forgets a client (its registered documents stay, under its name).
REMOVE = "delete from clients where name = $1 returning name"


@dataclass(frozen=True, slots=True)
class ClientRow:
    """One registered client; `policy` is its policy as JSON text."""

    name: str
    policy: str
    key_hash: bytes
    previous_key_hash: bytes | None
    previous_expires_at: datetime | None
    created_at: datetime
    rotated_at: datetime | None


async def add(conn: Connection, name: str, policy: str, key_hash: bytes) -> bool:
    """Registers `name` with `policy` (JSON) and its key's hash; False when it exists."""
    return await conn.fetchval(ADD, name, policy, key_hash) is not None


async def clients(conn: Connection) -> list[ClientRow]:
    """Every registered client, ordered by name."""
    return [ClientRow(*row) for row in await conn.fetch(ALL)]


async def rotate(conn: Connection, name: str, key_hash: bytes, grace_seconds: float) -> bool:
    """Gives `name` a new key, keeping its current one valid for `grace_seconds`; False
    when there is no such client."""
    return await conn.fetchval(ROTATE, name, key_hash, grace_seconds) is not None


async def set_policy(conn: Connection, name: str, policy: str) -> bool:
    """Sets `name`'s policy (JSON); False when there is no such client."""
    return await conn.fetchval(SET_POLICY, name, policy) is not None


async def remove(conn: Connection, name: str) -> bool:
    """Forgets `name`; False when there is no such client."""
    return await conn.fetchval(REMOVE, name) is not None

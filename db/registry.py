"""Registered operations in PostgreSQL: each client's documents by id, and what each client
version registered. The durable copy: Redis and the workers' caches only sit in front."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from db.pool import Connection

# Returns a registered document's text.
LOOKUP = "select body from registered_documents where client = $1 and id = $2"
# Keeps a document's text under its id (a new text replaces the old, as a manifest says).
SAVE_DOCUMENT = """
insert into registered_documents (client, id, body) values ($1, $2, $3)
on conflict (client, id) do update set body = excluded.body
"""
# Forgets what a client version registered (before registering it again).
FORGET_VERSION = "delete from registered_versions where client = $1 and version = $2"
# Records that a client version registered a document.
SAVE_VERSION = """
insert into registered_versions (client, version, document_id, name, type)
values ($1, $2, $3, $4, $5)
"""
# Returns every registration (of one client when $1 is not null), bodies included.
REGISTRATIONS = """
select v.client, v.version, v.document_id, v.name, v.type, d.body
from registered_versions v
join registered_documents d on d.client = v.client and d.id = v.document_id
where $1::text is null or v.client = $1
order by v.client, v.version, v.document_id
"""


@dataclass(frozen=True, slots=True)
class RegisteredRow:
    """One document one client version registered."""

    client: str
    version: str
    id: str
    name: str | None
    type: str
    body: str


async def lookup(conn: Connection, client: str, document_id: str) -> str | None:
    """The text `client` registered under `document_id`, or None."""
    body: str | None = await conn.fetchval(LOOKUP, client, document_id)
    return body


async def register(
    conn: Connection, client: str, version: str, rows: Sequence[RegisteredRow]
) -> None:
    """Registers `rows` as everything `client` `version` registered, in one transaction."""
    async with conn.transaction():
        await conn.executemany(SAVE_DOCUMENT, [(client, r.id, r.body) for r in rows])
        await conn.execute(FORGET_VERSION, client, version)
        await conn.executemany(
            SAVE_VERSION, [(client, version, r.id, r.name, r.type) for r in rows]
        )


async def registrations(conn: Connection, client: str | None) -> list[RegisteredRow]:
    """Every document every client version registered (of `client` only, when given),
    ordered by client, version and id."""
    return [
        RegisteredRow(r["client"], r["version"], r["document_id"], r["name"], r["type"], r["body"])
        for r in await conn.fetch(REGISTRATIONS, client)
    ]

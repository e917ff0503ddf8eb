"""Registered documents kept in PostgreSQL, with Redis in front.

Registered operations (manifests, safelists) are product data: a Redis flush, restart or
outage must cost a cache miss, never a refusal of a safelisted client's operations. So
`DurableStore` registers in PostgreSQL first (the durable copy, in one transaction), then in
Redis; a lookup asks Redis (one MGET), and when Redis has no registered document of that id
(it was flushed, or restarted empty) or does not answer, asks PostgreSQL, putting what it
finds back in Redis. APQ documents live in Redis only, as Apollo intends: they are a cache
the client refills.

A lookup that Redis answers with an APQ document is not checked against PostgreSQL (that
would add a statement to every APQ hit): a document a client both sent through APQ and had
registered reads as APQ until Redis forgets the APQ copy (its TTL), which matters only for a
client whose policy changed from `apq` to `safelist` meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress

import asyncpg

from db import registry
from db.errors import DatabaseUnavailable
from db.pool import Database
from server.persisted.store import (
    RedisStore,
    RegisteredDocument,
    Registration,
    StoredDocument,
    StoreUnavailable,
)

log = logging.getLogger("pinql.persisted")


class DurableStore:
    """A DocumentStore whose registered documents live in PostgreSQL (`database`), with
    `front` (Redis) answering first; APQ documents live in `front` only."""

    def __init__(self, front: RedisStore, database: Database) -> None:
        self.front = front
        self.database = database

    async def lookup(self, client: str, document_id: str) -> StoredDocument | None:
        """Redis first; a registered document Redis lacks comes from PostgreSQL (and goes
        back into Redis). StoreUnavailable when neither can say."""
        try:
            found = await self.front.lookup(client, document_id)
        except StoreUnavailable:
            body = await self._durable(client, document_id)
            if body is None:
                raise
            return StoredDocument(body, registered=True)
        if found is not None:
            return found
        body = await self._durable(client, document_id)
        if body is None:
            return None
        with suppress(StoreUnavailable):  # (then read from PostgreSQL again next time)
            await self.front.keep_registered(client, document_id, body)
        return StoredDocument(body, registered=True)

    async def _durable(self, client: str, document_id: str) -> str | None:
        async with self._registry() as conn:
            return await registry.lookup(conn, client, document_id)

    @asynccontextmanager
    async def _registry(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy]:
        """A pool connection; the database not answering is StoreUnavailable."""
        try:
            async with self.database.connection() as conn:
                yield conn
        except Exception as exc:
            fault = exc if isinstance(exc, DatabaseUnavailable) else self.database.fault(exc)
            if fault is None:
                raise
            raise StoreUnavailable(f"the registry in PostgreSQL did not answer: {fault}") from exc

    async def save_apq(self, client: str, sha256: str, text: str) -> None:
        """In Redis only, with the APQ TTL."""
        await self.front.save_apq(client, sha256, text)

    async def register(
        self, client: str, version: str, documents: Sequence[RegisteredDocument]
    ) -> None:
        """In PostgreSQL (all or nothing), then in Redis; Redis failing then is logged, not
        raised: lookups find the documents in PostgreSQL and put them back."""
        rows = [
            registry.RegisteredRow(client, version, d.id, d.name, d.type, d.body) for d in documents
        ]
        async with self._registry() as conn:
            await registry.register(conn, client, version, rows)
        try:
            await self.front.register(client, version, documents)
        except StoreUnavailable as exc:
            log.warning(
                "registered %d documents for %s %s in PostgreSQL; Redis did not take them "
                "(%s): they will be read from PostgreSQL",
                len(rows),
                client,
                version,
                exc,
            )

    async def registrations(self, client: str | None = None) -> list[Registration]:
        """Every registration (of one client), from PostgreSQL, sorted by client and
        version."""
        async with self._registry() as conn:
            rows = await registry.registrations(conn, client)
        grouped: dict[tuple[str, str], list[RegisteredDocument]] = {}
        for row in rows:
            document = RegisteredDocument(row.id, row.body, row.name, row.type)
            grouped.setdefault((row.client, row.version), []).append(document)
        return [
            Registration(client_, version, tuple(documents))
            for (client_, version), documents in grouped.items()
        ]

    async def close(self) -> None:
        """Closes Redis (the database is its owner's to close)."""
        await self.front.close()

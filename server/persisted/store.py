"""Where persisted documents live: Redis (shared by every replica) or this process.

Keys are namespaced per client and carry the client in a Redis Cluster hash tag, so one
client's keys share a slot and a lookup is one MGET:

- `pq:{web}:r:<id>`        a registered document's text (no TTL)
- `pq:{web}:a:<sha256>`    an APQ document's text (expires after the APQ TTL)
- `pq:{web}:apq`           sorted set: the client's APQ keys by when they were saved, so a
                           client keeps at most APQ_PER_CLIENT (its oldest go first)
- `pq:{web}:v:<version>`   hash: id -> {"name", "type"} of each document that version registered
- `pq:{web}:versions`      set of registered versions
- `pq:clients`             set of clients with registrations (its own slot)

Without Redis, `LocalStore` keeps APQ documents in memory and registered ones in a JSON file
under PINQL_DATA_DIR that `pinql operations register` writes and the server re-reads when it
changes.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson
from cachetools import TTLCache
from redis.asyncio import Redis

from server.redis_link import Breaker, connect

log = logging.getLogger("pinql.persisted")

CLIENTS_KEY = "pq:clients"
REGISTRY_FILE = "persisted-documents.json"
APQ_PER_CLIENT = 10_000
"""APQ documents Redis keeps per client: past it, that client's oldest go, so one client's
stream of texts cannot evict another's documents (each is at most PINQL_APQ_MAX_BYTES)."""

# KEYS[1]: an APQ document's key; KEYS[2]: its client's index (keys by save time, µs).
# ARGV: the text, the TTL (s), the quota. Keeps the text, indexes it, forgets the index
# entries whose text expired, then deletes the client's oldest texts past the quota (every
# key named is in the client's hash slot).
SAVE_APQ = """
local now = redis.call('TIME')
local us = now[1] * 1000000 + now[2]
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('ZADD', KEYS[2], us, KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', us - ttl * 1000000)
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if over > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #oldest, 2 do redis.call('DEL', oldest[i]) end
end
redis.call('EXPIRE', KEYS[2], ttl)
return over
"""


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document's text, and whether it was registered (else it came through APQ)."""

    text: str
    registered: bool


@dataclass(frozen=True, slots=True)
class RegisteredDocument:
    """One operation of a manifest: its id, text, operation name and type."""

    id: str
    body: str
    name: str | None
    type: str


@dataclass(frozen=True, slots=True)
class Registration:
    """What one client version registered."""

    client: str
    version: str
    documents: tuple[RegisteredDocument, ...]


class StoreUnavailable(Exception):
    """The shared store did not answer; callers degrade to their local cache."""


class DocumentStore(Protocol):
    """Persisted documents by client and id."""

    async def lookup(self, client: str, document_id: str) -> StoredDocument | None:
        """The registered document with this id, else the APQ one, else None."""
        ...

    async def save_apq(self, client: str, sha256: str, text: str) -> None:
        """Keeps an APQ document (with the APQ TTL)."""
        ...

    async def register(
        self, client: str, version: str, documents: Sequence[RegisteredDocument]
    ) -> None:
        """Registers a manifest's documents for a client version, all or nothing."""
        ...

    async def registrations(self, client: str | None = None) -> list[Registration]:
        """Every registration (of one client), sorted by client and version."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _registered_key(client: str, document_id: str) -> str:
    return f"pq:{{{client}}}:r:{document_id}"


def apq_key(client: str, sha256: str) -> str:
    """Where `client`'s APQ document of hash `sha256` lives in Redis."""
    return f"pq:{{{client}}}:a:{sha256}"


def apq_index_key(client: str) -> str:
    """`client`'s APQ documents by save time in Redis (its quota's index)."""
    return f"pq:{{{client}}}:apq"


def _version_key(client: str, version: str) -> str:
    return f"pq:{{{client}}}:v:{version}"


def _versions_key(client: str) -> str:
    return f"pq:{{{client}}}:versions"


class RedisStore:
    """Documents in Redis. After a failure it answers StoreUnavailable at once for
    RETRY_AFTER_SECONDS (no request waits on a dead server), then tries Redis again."""

    def __init__(
        self, redis: Redis, apq_ttl_seconds: int, apq_per_client: int = APQ_PER_CLIENT
    ) -> None:
        self.redis = redis
        self.apq_ttl_seconds = apq_ttl_seconds
        self.apq_per_client = apq_per_client
        self.breaker = Breaker(log, "serving from local caches", StoreUnavailable)
        self._save_apq = redis.register_script(SAVE_APQ)

    @classmethod
    def from_url(
        cls, url: str, apq_ttl_seconds: int, apq_per_client: int = APQ_PER_CLIENT
    ) -> RedisStore:
        """A store on a client with short timeouts and one immediate retry (a pooled
        connection that died with a Redis restart is replaced, not reported)."""
        return cls(connect(url), apq_ttl_seconds, apq_per_client)

    async def lookup(self, client: str, document_id: str) -> StoredDocument | None:
        """One MGET: registered first, then APQ."""
        with self.breaker.guard():
            registered, apq = await self.redis.mget(
                _registered_key(client, document_id), apq_key(client, document_id)
            )
        if registered is not None:
            return StoredDocument(_str(registered), registered=True)
        if apq is not None:
            return StoredDocument(_str(apq), registered=False)
        return None

    async def keep_registered(self, client: str, document_id: str, text: str) -> None:
        """SET a registered document's text again (read from PostgreSQL: DurableStore)."""
        with self.breaker.guard():
            await self.redis.set(_registered_key(client, document_id), text)

    async def save_apq(self, client: str, sha256: str, text: str) -> None:
        """Keeps the text with the APQ TTL, within the client's quota (SAVE_APQ)."""
        keys = [apq_key(client, sha256), apq_index_key(client)]
        with self.breaker.guard():
            await self._save_apq(keys, [text, self.apq_ttl_seconds, self.apq_per_client])

    async def register(
        self, client: str, version: str, documents: Sequence[RegisteredDocument]
    ) -> None:
        """One MULTI/EXEC: every key is in the client's slot."""
        with self.breaker.guard():
            async with self.redis.pipeline(transaction=True) as pipe:
                for doc in documents:
                    pipe.set(_registered_key(client, doc.id), doc.body)
                pipe.delete(_version_key(client, version))
                if documents:
                    pipe.hset(
                        _version_key(client, version),
                        mapping={
                            doc.id: json.dumps({"name": doc.name, "type": doc.type})
                            for doc in documents
                        },
                    )
                pipe.sadd(_versions_key(client), version)
                await pipe.execute()
            await self.redis.sadd(CLIENTS_KEY, client)

    async def registrations(self, client: str | None = None) -> list[Registration]:
        """Reads every registration back, bodies included."""
        with self.breaker.guard():
            members = await self.redis.smembers(CLIENTS_KEY)
            clients = [client] if client else sorted(_str(m) for m in members)
            result: list[Registration] = []
            for name in clients:
                versions = await self.redis.smembers(_versions_key(name))
                for version in sorted(_str(v) for v in versions):
                    raw = await self.redis.hgetall(_version_key(name, version))
                    entries = {_str(k): _str(v) for k, v in raw.items()}
                    ids = sorted(entries)
                    bodies = await self.redis.mget([_registered_key(name, i) for i in ids])
                    documents = tuple(
                        RegisteredDocument(i, _str(body or ""), **json.loads(entries[i]))
                        for i, body in zip(ids, bodies, strict=True)
                    )
                    result.append(Registration(name, version, documents))
        return result

    async def close(self) -> None:
        """Closes the connection pool."""
        await self.redis.aclose()


class LocalStore:
    """Documents in this process (APQ, bounded, with TTL) and in a JSON registry file
    (registered), for running without Redis. The file is re-read when its mtime changes."""

    def __init__(self, data_dir: str | Path, apq_ttl_seconds: int, apq_max: int = 10_000) -> None:
        self.path = Path(data_dir) / REGISTRY_FILE
        self.apq: TTLCache[tuple[str, str], str] = TTLCache(apq_max, ttl=apq_ttl_seconds)
        self._mtime: float | None = None
        self._registered: dict[str, dict[str, str]] = {}

    def _read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {"clients": {}}
        return data

    def _refresh(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime != self._mtime:
            clients = self._read()["clients"]
            self._registered = {name: c["documents"] for name, c in clients.items()}
            self._mtime = mtime

    async def lookup(self, client: str, document_id: str) -> StoredDocument | None:
        """Registered (from the file) first, then APQ."""
        self._refresh()
        body = self._registered.get(client, {}).get(document_id)
        if body is not None:
            return StoredDocument(body, registered=True)
        text = self.apq.get((client, document_id))
        return None if text is None else StoredDocument(text, registered=False)

    async def save_apq(self, client: str, sha256: str, text: str) -> None:
        """Keeps it in memory, bounded, with the APQ TTL."""
        self.apq[(client, sha256)] = text

    async def register(
        self, client: str, version: str, documents: Sequence[RegisteredDocument]
    ) -> None:
        """Rewrites the registry file atomically, under an exclusive lock."""
        await asyncio.to_thread(self._write, client, version, documents)
        self._mtime = None

    def _write(self, client: str, version: str, documents: Sequence[RegisteredDocument]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read()
            entry = data["clients"].setdefault(client, {"documents": {}, "versions": {}})
            for doc in documents:
                entry["documents"][doc.id] = doc.body
            entry["versions"][version] = {
                doc.id: {"name": doc.name, "type": doc.type} for doc in documents
            }
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".registry-")
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            os.replace(tmp, self.path)

    async def registrations(self, client: str | None = None) -> list[Registration]:
        """Reads the registry file."""
        clients: dict[str, Any] = self._read()["clients"]
        result: list[Registration] = []
        for name in sorted(clients):
            if client and name != client:
                continue
            documents = clients[name]["documents"]
            for version, entries in sorted(clients[name]["versions"].items()):
                docs = tuple(
                    RegisteredDocument(i, documents[i], **entries[i]) for i in sorted(entries)
                )
                result.append(Registration(name, version, docs))
        return result

    async def close(self) -> None:
        """Nothing to release."""

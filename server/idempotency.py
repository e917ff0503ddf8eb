"""Idempotency keys: a mutation POSTed with `Idempotency-Key` runs at most once per viewer and
key; a retry within the TTL gets the first response back instead of writing again.

An entry is first a claim (`pending`, a lease of PENDING_SECONDS holding a token only its
request knows), then the finished response (`done`, kept PINQL_IDEMPOTENCY_TTL_SECONDS).
Entries live in Redis under `idem:{<viewer id>}:<key>` (the viewer is the Cluster hash tag),
or, without REDIS_URL, in this process. When Redis does not answer, keyed mutations are
run all the same: their writes are recorded in PostgreSQL (db/write_keys.py), which is what
keeps a retry from writing twice; only the response is not kept. What clients
see: docs/idempotency.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from cachetools import TLRUCache
from redis.asyncio import Redis
from starlette.datastructures import Headers
from starlette.responses import Response

from db import write_keys
from db.pool import Database
from db.write_keys import WriteKey
from server.graphql_http import RequestError, error_response
from server.redis_link import Breaker, connect

log = logging.getLogger("pinql.idempotency")

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,255}")
REUSED = "IDEMPOTENCY_KEY_REUSED"
IN_USE = "IDEMPOTENCY_KEY_IN_USE"
PENDING_SECONDS = 300
MAX_RESPONSE_BYTES = 64 * 1024
"""The largest response kept for replays. A larger one is answered and its claim released:
a retry runs the mutation again, and each root field answers from its write record."""
LOCAL_MAX_ENTRIES = 100_000
PRUNE_SECONDS = 600.0
"""How often each worker prunes expired write records (one of them at a time does)."""
PRUNE_BATCH = 10_000

# Replaces the claim KEYS[1] (if it still holds ARGV[1]) by ARGV[2], kept ARGV[3] seconds.
FINISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
# Deletes the claim KEYS[1] if it still holds ARGV[1].
RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""


class IdempotencyUnavailable(Exception):
    """The shared store did not answer: keyed mutations cannot be deduplicated now."""


@dataclass(frozen=True, slots=True)
class Executed:
    """One run of a request: its response, whether the operation ran (a request error, such
    as variables that do not coerce, did not: its key is released, not kept), and whether
    the response is final: one that cannot say what was written (PostgreSQL went away, the
    deadline passed, a COMMIT's reply was lost) is not kept either, so that a retry runs again
    and answers from what the writes recorded (db/write_keys.py)."""

    response: Response
    ran: bool
    final: bool = True


Execute = Callable[[WriteKey], Awaitable[Executed]]


def idempotency_key(headers: Headers) -> str | None:
    """The request's Idempotency-Key, None without one; RequestError (400) when malformed."""
    values = headers.getlist(HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise RequestError(400, f"send one {HEADER} header, got {len(values)}")
    key = values[0]
    if not KEY_PATTERN.fullmatch(key):
        shown = f"{len(key)} characters" if len(key) > 255 else repr(key)
        raise RequestError(
            400, f"{HEADER} must be 1..255 characters of A-Z a-z 0-9 . _ : -, got {shown}"
        )
    return key


def request_fingerprint(
    document_sha256: str, operation_name: str | None, variables: Mapping[str, Any] | None
) -> str:
    """What makes a retry the same request: document, operation and variables (in any key
    order); sha256 hex."""
    canonical = orjson.dumps(
        [document_sha256, operation_name, variables or {}], option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()


def entry_key(viewer_id: int, key: str) -> str:
    """The store key of one viewer's Idempotency-Key."""
    return f"idem:{{{viewer_id}}}:{key}"


class EntryStore(Protocol):
    """Idempotency entries (JSON text) by store key, each with its own expiry."""

    async def claim(self, key: str, pending: str, seconds: int) -> str | None:
        """Sets `key` to `pending` for `seconds` unless it is set: None when claimed, else
        what it holds."""
        ...

    async def finish(self, key: str, pending: str, done: str, seconds: int) -> None:
        """Replaces the claim `pending` by `done`, kept `seconds`; nothing if it is gone."""
        ...

    async def release(self, key: str, pending: str) -> None:
        """Deletes the claim `pending`, if `key` still holds it."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


class RedisEntries:
    """Entries in Redis. After a failure it answers IdempotencyUnavailable at once for
    RETRY_AFTER_SECONDS (no request waits on a dead server), then tries Redis again."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._finish = redis.register_script(FINISH)
        self._release = redis.register_script(RELEASE)
        self.breaker = Breaker(
            log, "keyed mutations run on their PostgreSQL records alone", IdempotencyUnavailable
        )

    @classmethod
    def from_url(cls, url: str) -> RedisEntries:
        """Entries on a client with short timeouts and one immediate retry (a pooled
        connection that died with a Redis restart is replaced, not reported)."""
        return cls(connect(url))

    async def claim(self, key: str, pending: str, seconds: int) -> str | None:
        """One SET NX GET (Redis 7.0+)."""
        with self.breaker.guard():
            held = await self.redis.set(key, pending, nx=True, get=True, ex=seconds)
        if isinstance(held, bytes):
            return held.decode()
        return held if isinstance(held, str) else None

    async def finish(self, key: str, pending: str, done: str, seconds: int) -> None:
        """Compare and set, in one script."""
        with self.breaker.guard():
            await self._finish(keys=[key], args=[pending, done, seconds])

    async def release(self, key: str, pending: str) -> None:
        """Compare and delete, in one script."""
        with self.breaker.guard():
            await self._release(keys=[key], args=[pending])

    async def close(self) -> None:
        """Closes the connection pool."""
        await self.redis.aclose()


@dataclass(frozen=True, slots=True)
class _Held:
    value: str
    seconds: int


class LocalEntries:
    """Entries in this process (bounded, each with its expiry), for running without Redis.
    Every method runs without awaiting, so each is atomic on the event loop."""

    def __init__(self, max_entries: int = LOCAL_MAX_ENTRIES) -> None:
        self.entries: TLRUCache[str, _Held] = TLRUCache(
            max_entries, ttu=lambda _key, held, now: now + held.seconds
        )

    async def claim(self, key: str, pending: str, seconds: int) -> str | None:
        """Sets it unless it is set."""
        held = self.entries.get(key)
        if held is not None:
            return held.value
        self.entries[key] = _Held(pending, seconds)
        return None

    async def finish(self, key: str, pending: str, done: str, seconds: int) -> None:
        """Replaces the claim if it is still there."""
        held = self.entries.get(key)
        if held is not None and held.value == pending:
            self.entries[key] = _Held(done, seconds)

    async def release(self, key: str, pending: str) -> None:
        """Deletes the claim if it is still there."""
        held = self.entries.get(key)
        if held is not None and held.value == pending:
            del self.entries[key]

    async def close(self) -> None:
        """Nothing to release."""


class Idempotency:
    """Runs a keyed mutation once per viewer and key; answers its retries from the store."""

    def __init__(
        self, store: EntryStore, ttl_seconds: int, max_response_bytes: int = MAX_RESPONSE_BYTES
    ) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.max_response_bytes = max_response_bytes
        self.unclaimed = 0
        """Keyed mutations run without a claim (the store was unreachable)."""
        self.on_unclaimed: Callable[[], object] | None = None
        """Told of each (the metrics' counter)."""

    async def run(
        self, viewer_id: int, key: str, fingerprint: str, execute: Execute, media: str
    ) -> Response:
        """The first response for this viewer, key and fingerprint: run now, or replayed."""
        entry = entry_key(viewer_id, key)
        token = secrets.token_hex(16)
        pending = _dumps({"state": "pending", "fingerprint": fingerprint, "token": token})
        try:
            held = await self.store.claim(entry, pending, min(PENDING_SECONDS, self.ttl_seconds))
        except IdempotencyUnavailable:
            return await self._unclaimed(key, fingerprint, execute)
        if held is not None and held != pending:  # our own: a claim whose reply was lost
            # and was sent again (redis_link's one retry) finds what it set itself
            answer = orjson.loads(held)
            if answer["state"] == "done" and "body" not in answer:
                # Done without its body (kept so by an earlier release of pinql): runs again,
                # answered from its write records, as without a kept response.
                return (await self._execute(key, fingerprint, execute)).response
            return _answer(answer, key, fingerprint, media)
        try:
            executed = await self._execute(key, fingerprint, execute)
        except Exception:
            await self._release(entry, pending)
            raise
        response = executed.response
        body = bytes(response.body)
        if not executed.ran or not executed.final or len(body) > self.max_response_bytes:
            if executed.ran and executed.final:
                log.info(
                    "%s: the response (%d bytes) is over the %d bytes kept: a retry runs "
                    "again and answers from its write records",
                    entry,
                    len(body),
                    self.max_response_bytes,
                )
            await self._release(entry, pending)
            return response
        done = {
            "state": "done",
            "fingerprint": fingerprint,
            "status": response.status_code,
            "body": body.decode(),
        }
        try:
            await self.store.finish(entry, pending, _dumps(done), self.ttl_seconds)
        except IdempotencyUnavailable as exc:
            log.warning("%s: the response was not kept (%s)", entry, exc)
        return response

    async def _unclaimed(self, key: str, fingerprint: str, execute: Execute) -> Response:
        """Runs a keyed mutation the store cannot claim (Redis unreachable): its writes are
        recorded in PostgreSQL all the same, so a retry, or an attempt running at the same
        time, answers from those records and never writes twice; only the response is not
        kept, and a concurrent duplicate waits on the first one's records instead of getting
        409. Counted in `unclaimed` and told to `on_unclaimed` (the store's breaker logs the
        outage)."""
        self.unclaimed += 1
        if self.on_unclaimed is not None:
            self.on_unclaimed()
        return (await self._execute(key, fingerprint, execute)).response

    async def _execute(self, key: str, fingerprint: str, execute: Execute) -> Executed:
        """Runs the mutation with its writes recorded under the key; a response answered from
        an earlier request's records (nothing written) says so."""
        write_key = WriteKey(key, fingerprint, self.ttl_seconds)
        executed = await execute(write_key)
        if write_key.replayed:
            executed.response.headers[REPLAYED] = "true"
        return executed

    async def _release(self, entry: str, pending: str) -> None:
        try:
            await self.store.release(entry, pending)
        except IdempotencyUnavailable as exc:
            log.warning("%s: the claim was not released (%s)", entry, exc)

    async def close(self) -> None:
        """Closes the store."""
        await self.store.close()


def _dumps(value: Mapping[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _answer(held: dict[str, Any], key: str, fingerprint: str, media: str) -> Response:
    """What a request whose key is taken gets: 422, 409, or the first response again."""
    if held["fingerprint"] != fingerprint:
        message = (
            f"{HEADER} {key!r} was already used for a different request (another operation "
            "or other variables): send a new key for a new request"
        )
        return error_response(RequestError(422, message, REUSED), media)
    if held["state"] == "pending":
        message = (
            f"a request with {HEADER} {key!r} is still running: retry it after a second "
            "to get its response"
        )
        return error_response(RequestError(409, message, IN_USE, {"Retry-After": "1"}), media)
    return Response(
        held["body"].encode(),
        status_code=held["status"],
        headers={REPLAYED: "true"},
        media_type=f"{media}; charset=utf-8",
    )


class WriteKeyPruner:
    """Deletes the write records (db/write_keys.py) older than the idempotency TTL every
    `every` seconds, a batch at a time until none is left; one worker of all at a time."""

    def __init__(self, database: Database, ttl_seconds: int, every: float = PRUNE_SECONDS):
        self.database = database
        self.ttl_seconds = ttl_seconds
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Prunes every `every` seconds from now on."""
        self._task = asyncio.create_task(self._keep_pruning(), name="pinql-write-key-pruner")

    async def prune(self) -> int:
        """Deletes the expired records now; how many."""
        pruned = 0
        while True:
            session = self.database.session()
            try:
                async with session.transaction() as conn:
                    deleted = await write_keys.prune(conn, self.ttl_seconds, PRUNE_BATCH)
            finally:
                await session.close()
            pruned += deleted
            if deleted < PRUNE_BATCH:
                return pruned

    async def _keep_pruning(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                pruned = await self.prune()
            except Exception as exc:  # (PostgreSQL away: the next round tries again)
                log.warning("expired write records were not pruned: %s", exc)
            else:
                if pruned:
                    log.info("pruned %d expired write record(s)", pruned)

    async def close(self) -> None:
        """Stops pruning."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

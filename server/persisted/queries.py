"""Turns a request's query text and/or persisted id into a prepared document, per client.

Apollo's APQ protocol (hash only → PersistedQueryNotFound; query + hash → verify, store,
run), registered documents, and each client's policy. In front of the store sit a bounded
LRU of the persisted ids each client used (their documents' hashes) and the document cache
(prepared documents, bounded in bytes): a hot operation costs no Redis round trip and no
parsing. When the store is unreachable, what they hold keeps being served and misses answer
PERSISTED_QUERY_NOT_FOUND.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from execution.cache import SecondSighting, document_weight
from execution.documents import PreparedDocument, Preparer, prepare, sha256_hex
from execution.untracked import untrack
from server.offload import Offload
from server.persisted.policy import ClientPolicy, Mode
from server.persisted.store import DocumentStore, StoreUnavailable

log = logging.getLogger("pinql.persisted")

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
ID_REQUIRED = "PERSISTED_QUERY_ID_REQUIRED"
TOO_LARGE = "PERSISTED_QUERY_TOO_LARGE"
APQ_MAX_BYTES = 32 * 1024
"""The default largest APQ text: each operation of operations/ is under 1 KiB."""
NO_CACHE = {"Cache-Control": "private, no-cache, must-revalidate"}
KNOWN_IDS = 20_000
"""(client, persisted id) pairs a worker remembers (about 300 bytes each)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request refused before execution: HTTP status, GraphQL error, extra headers."""

    status: int
    message: str
    code: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The response body: one error, no data."""
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


@dataclass(slots=True)
class PersistedQueryStats:
    """Counts per (client, event), also told to `sink` (server/metrics.py's counters).
    Events: hit_local, hit_store, miss, apq_stored, refused, store_unavailable,
    unknown_operation."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    sink: Callable[[str, str], None] | None = None

    def count(self, client: str, event: str) -> None:
        """Adds one."""
        self.counts[(client, event)] += 1
        if self.sink is not None:
            self.sink(client, event)

    def of(self, client: str) -> dict[str, int]:
        """One client's counts by event."""
        return {event: n for (c, event), n in self.counts.items() if c == client}


@dataclass(frozen=True, slots=True)
class _Known:
    """A persisted id a client used: its document's hash (the document is in DocumentCache
    while it is kept there), and whether it is registered (else APQ)."""

    sha256: str
    registered: bool


@dataclass(frozen=True, slots=True)
class _Cached:
    prepared: PreparedDocument
    registered: bool


class DocumentCache:
    """Prepared documents by the SHA-256 of their text, bounded in bytes (their estimated
    weight, execution/cache.py's `document_weight`), least recently used out, shared by
    clients.

    Persisted documents are kept at once. Plain query text is kept on its second sighting
    only (`SecondSighting`): texts that vary per request (inlined values, a fuzzer) must not
    fill the cache, which would evict the hot documents. A kept document is out of the
    garbage collector's scans (execution/untracked.py). A document is prepared off the event
    loop (server/offload.py)."""

    def __init__(self, max_bytes: int, offload: Offload, prepare: Preparer = prepare) -> None:
        self._prepare = prepare
        self._offload = offload
        self._by_hash: LRUCache[str, PreparedDocument] = LRUCache(
            max_bytes, getsizeof=document_weight
        )
        self._door: SecondSighting[str] = SecondSighting()

    async def get(
        self, text: str, sha256: str | None = None, *, persisted: bool
    ) -> PreparedDocument:
        """The prepared document for `text`; only valid documents are kept."""
        digest = sha256 or sha256_hex(text)
        prepared = self._by_hash.get(digest)
        if prepared is None:
            prepared = await self._offload.once(("prepare", digest), self._prepare, text, digest)
            if digest in self._by_hash:  # another request prepared it meanwhile and kept it
                return self._by_hash[digest]
            if not prepared.valid:
                return prepared
            if (persisted or self._door.admits(digest)) and (
                document_weight(prepared) <= self._by_hash.maxsize
            ):
                untrack(prepared)  # (kept long: out of the garbage collector's scans)
                self._by_hash[digest] = prepared
        return prepared

    def kept(self, sha256: str) -> PreparedDocument | None:
        """The document of this hash if it is kept (then it is now the most recently used)."""
        return self._by_hash.get(sha256)

    def __len__(self) -> int:
        """Documents kept."""
        return len(self._by_hash)

    @property
    def weight(self) -> int:
        """The bytes the documents kept weigh (estimated)."""
        return int(self._by_hash.currsize)


class PersistedQueries:
    """Resolves (client, query, persisted id) to a PreparedDocument or a Refusal."""

    def __init__(
        self,
        store: DocumentStore,
        policy: Callable[[str], ClientPolicy],
        max_bytes: int,
        offload: Offload,
        prepare: Preparer = prepare,
        apq_max_bytes: int = APQ_MAX_BYTES,
    ) -> None:
        self.store = store
        self.apq_max_bytes = apq_max_bytes
        """The largest text (UTF-8 bytes) APQ stores (PINQL_APQ_MAX_BYTES)."""
        self.policy = policy
        """The policy of a client (ClientDirectory.policy_for)."""
        self.documents = DocumentCache(max_bytes, offload, prepare)
        self.stats = PersistedQueryStats()
        self._local: LRUCache[tuple[str, str], _Known] = LRUCache(KNOWN_IDS)

    async def _lookup(self, client: str, document_id: str) -> _Cached | StoreUnavailable | None:
        known = self._local.get((client, document_id))
        if known is not None and (known.registered or self.policy(client).apq_enabled):
            kept = self.documents.kept(known.sha256)
            if kept is not None:
                self.stats.count(client, "hit_local")
                return _Cached(kept, known.registered)
        try:
            stored = await self.store.lookup(client, document_id)
        except StoreUnavailable as exc:
            self.stats.count(client, "store_unavailable")
            return exc
        if stored is None:
            self.stats.count(client, "miss")
            return None
        self.stats.count(client, "hit_store")
        sha256 = document_id if not stored.registered else None
        prepared = await self.documents.get(stored.text, sha256, persisted=True)
        if prepared.valid:
            self._local[(client, document_id)] = _Known(prepared.sha256, stored.registered)
        return _Cached(prepared, stored.registered)

    async def _registered(self, client: str, document_id: str) -> bool:
        found = await self._lookup(client, document_id)
        return isinstance(found, _Cached) and found.registered

    def _unknown(self, client: str, policy: ClientPolicy, what: str) -> None:
        if policy.log_unknown:
            self.stats.count(client, "unknown_operation")
            log.warning("client %s sent an unregistered operation: %s", client, what)

    async def resolve_text(self, client: str, query: str) -> PreparedDocument | Refusal:
        """Plain query text, no persisted id."""
        policy = self.policy(client)
        prepared = await self.documents.get(query, persisted=False)
        if policy.mode is Mode.OPEN and not policy.log_unknown:
            return prepared
        if await self._registered(client, prepared.sha256):
            return prepared
        self._unknown(client, policy, f"query text sha256 {prepared.sha256}")
        if policy.mode is Mode.OPEN:
            return prepared
        self.stats.count(client, "refused")
        if policy.mode is Mode.APQ:
            return Refusal(
                400,
                f"client {client!r} must send persisted queries (policy apq): "
                "send extensions.persistedQuery with the query's sha256Hash",
                ID_REQUIRED,
            )
        return Refusal(
            403,
            f"client {client!r} may only run registered operations (policy safelist); "
            f"this query (sha256 {prepared.sha256}) is not registered",
            NOT_IN_LIST,
        )

    async def resolve_apq(
        self,
        client: str,
        sha256: str,
        query: str | None,
        runs: Callable[[PreparedDocument], bool] = lambda _: True,
    ) -> PreparedDocument | Refusal:
        """Apollo's APQ request: `sha256` with or without the query text. A text is stored
        only when valid and when the request `runs` it (a GET naming a mutation is refused
        with 405 by the HTTP edge: what it sent is not kept)."""
        policy = self.policy(client)
        if query is not None and sha256_hex(query) != sha256:
            return Refusal(400, "provided sha does not match query", "BAD_REQUEST")
        found = await self._lookup(client, sha256)
        if isinstance(found, _Cached) and (found.registered or policy.apq_enabled):
            return found.prepared
        unreachable = isinstance(found, StoreUnavailable)
        if not (isinstance(found, _Cached) and found.registered):
            self._unknown(client, policy, f"persisted query {sha256}")
        if policy.mode is Mode.SAFELIST:
            self.stats.count(client, "refused")
            return _not_in_list(client, sha256, unreachable, 404 if query is None else 403)
        if not policy.apq:
            self.stats.count(client, "refused")
            return Refusal(
                400, f"PersistedQueryNotSupported: APQ is off for client {client!r}", NOT_SUPPORTED
            )
        if query is None:
            return Refusal(200, "PersistedQueryNotFound", NOT_FOUND, NO_CACHE)
        size = len(query.encode())
        if size > self.apq_max_bytes:
            self.stats.count(client, "refused")
            return Refusal(
                400,
                f"the document is {size:,} bytes; a persisted query may be at most "
                f"{self.apq_max_bytes:,} (PINQL_APQ_MAX_BYTES): trim it (comments and "
                "whitespace count) or send it without extensions.persistedQuery",
                TOO_LARGE,
            )
        prepared = await self.documents.get(query, sha256, persisted=True)
        if prepared.valid and runs(prepared):
            self._local[(client, sha256)] = _Known(sha256, registered=False)
            try:
                await self.store.save_apq(client, sha256, query)
                self.stats.count(client, "apq_stored")
            except StoreUnavailable:
                self.stats.count(client, "store_unavailable")
        return prepared

    async def resolve_document_id(
        self, client: str, document_id: str
    ) -> PreparedDocument | Refusal:
        """A registered document's id (`documentId`, as Relay-style clients send it)."""
        found = await self._lookup(client, document_id)
        if isinstance(found, _Cached) and found.registered:
            return found.prepared
        self._unknown(client, self.policy(client), f"document id {document_id}")
        self.stats.count(client, "refused")
        return _not_in_list(client, document_id, isinstance(found, StoreUnavailable), 404)


def _not_in_list(client: str, document_id: str, unreachable: bool, status: int) -> Refusal:
    reason = " (the registry is unreachable right now)" if unreachable else ""
    return Refusal(
        status,
        f"operation {document_id} is not registered for client {client!r}{reason}",
        NOT_IN_LIST,
    )

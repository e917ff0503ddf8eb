"""Plans kept per process, by document SHA-256 and operation name, least recently used out:
a plan is kept from its document's second sighting on (`SecondSighting`), so texts that vary
per request never push out the plans used again, and a document used again is planned at
most twice. One the engine does not run is remembered as such (with why, in a bounded LRU
of its own), so it costs one attempt.

The cache is bounded by the memory its plans weigh, not by a count of plans: a plan weighs
its nodes and the document it keeps alive (its fields' nodes hold the whole syntax tree and
the text), estimated from what they were measured to weigh (`weight`), so any mix of
documents leaves a worker's memory within PINQL_PLAN_CACHE_MB.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cachetools import LRUCache
from graphql import GraphQLSchema, OperationDefinitionNode

from execution.budget import (
    MAX_PLAN_NODES,
    MAX_PLAN_SECONDS,
    PLAN_CACHE_BYTES,
    Budget,
    Unplannable,
)
from execution.documents import PreparedDocument
from execution.plan import Plan, Templates, plan
from execution.untracked import untrack

log = logging.getLogger("pinql.execution")

PlanKey = tuple[str, str | None]
"""(document SHA-256, operation name or None for a lone anonymous operation)."""
PLAN_NODE_BYTES = 256
"""What a plan node weighs (measured: 140 to 240 bytes)."""
TOKEN_BYTES = 448
"""What a prepared document's syntax tree weighs per token (comments are no tokens; measured
with tracemalloc over 100 copies of each operation in operations/: 364 to 432 bytes), on top
of its text (a byte a character): a comment of any length weighs what its text does."""
UNPLANNED = 20_000
"""Documents remembered as not planned (an Unplanned each, about 300 bytes with its key)."""
SEEN_ONCE = 20_000
"""Keys a doorkeeper remembers as seen once (about 200 bytes each)."""

K = TypeVar("K", bound=Hashable)


class SecondSighting(Generic[K]):
    """A cache's doorkeeper: a key may be kept from its second sighting on. Keys seen once
    are remembered in a bounded LRU, so a stream of texts that differ per request (inlined
    values, a fuzzer, a hostile client) costs that LRU, never the cache's hot entries."""

    def __init__(self, size: int = SEEN_ONCE) -> None:
        self._once: LRUCache[K, bool] = LRUCache(size)

    def admits(self, key: K) -> bool:
        """Whether `key` was seen before (it then leaves the seen-once LRU); else remembers
        it as seen once."""
        if self._once.pop(key, False):
            return True
        self._once[key] = True
        return False


@dataclass(frozen=True, slots=True)
class Unplanned:
    """An operation the engine does not run, and why (a bounded label, and details)."""

    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class _Entry:
    plan: Plan
    weight: int


def document_weight(prepared: PreparedDocument) -> int:
    """The bytes a prepared document keeps alive, estimated: its text and its tokens."""
    return len(prepared.text) + prepared.tokens * TOKEN_BYTES


def weight(plan: Plan, prepared: PreparedDocument) -> int:
    """The bytes a kept plan keeps alive, estimated: its nodes and its document."""
    return plan.size * PLAN_NODE_BYTES + document_weight(prepared)


class PlanCache:
    """The plans of a process (and what could not be planned), shared by every request.
    Create one in the app's lifespan."""

    def __init__(
        self,
        schema: GraphQLSchema,
        max_bytes: int = PLAN_CACHE_BYTES,
        max_plan_nodes: int = MAX_PLAN_NODES,
        max_plan_seconds: float = MAX_PLAN_SECONDS,
    ) -> None:
        self.schema = schema
        self.templates = Templates(schema)
        self.max_plan_nodes = max_plan_nodes
        self.max_plan_seconds = max_plan_seconds
        self._plans: LRUCache[PlanKey, _Entry] = LRUCache(
            max_bytes, getsizeof=lambda entry: entry.weight
        )
        self._door: SecondSighting[PlanKey] = SecondSighting()
        self._unplanned: LRUCache[PlanKey, Unplanned] = LRUCache(UNPLANNED)
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        """Plans kept."""
        return len(self._plans)

    @property
    def weight(self) -> int:
        """The bytes the plans kept weigh (estimated: `weight`)."""
        return int(self._plans.currsize)

    def get(
        self, prepared: PreparedDocument, operation: OperationDefinitionNode
    ) -> Plan | Unplanned:
        """The plan of `operation` in the valid document `prepared`, kept from its second
        sighting on; Unplanned (remembered, and logged, when first found) when the engine
        does not run it."""
        assert prepared.valid and prepared.document is not None
        key = (prepared.sha256, operation.name.value if operation.name else None)
        entry = self._plans.get(key)
        found = entry.plan if entry is not None else self._unplanned.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        found = self._plan(prepared, operation)
        if isinstance(found, Unplanned):
            self._unplanned[key] = found
            log.info(
                "not planned (%s): document %s%s",
                found.reason,
                prepared.sha256,
                f": {found.detail}" if found.detail else "",
                extra={"document_hash": prepared.sha256, "reason": found.reason},
            )
            return found
        entry = _Entry(found, weight(found, prepared))
        # Kept from its second sighting, unless heavier than the whole cache.
        if self._door.admits(key) and entry.weight <= self._plans.maxsize:
            untrack(found)  # (kept long: out of the garbage collector's scans)
            self._plans[key] = entry
        return found

    def _plan(
        self, prepared: PreparedDocument, operation: OperationDefinitionNode
    ) -> Plan | Unplanned:
        budget = Budget(self.max_plan_nodes, self.max_plan_seconds)
        return planned(self.schema, prepared, operation, budget, self.templates)


def planned(
    schema: GraphQLSchema,
    prepared: PreparedDocument,
    operation: OperationDefinitionNode,
    budget: Budget,
    templates: Templates | None = None,
) -> Plan | Unplanned:
    """The plan of `operation` in the valid document `prepared` within `budget`, or why the
    engine does not run it (what PlanCache keeps)."""
    if prepared.introspects:
        return Unplanned("introspection")
    assert prepared.document is not None
    try:
        return plan(schema, prepared.document, operation, budget, templates)
    except Unplannable as refused:
        return Unplanned(refused.reason, refused.detail)

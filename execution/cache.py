"""Plans kept per process, by document SHA-256 and operation name, least recently used out:
each document is planned once, and one the engine does not run is remembered as such (with
why), so it costs one attempt. The cache is bounded by the plan nodes it holds (a plan's
memory grows with its nodes: execution/budget.py), not by a count of plans."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from cachetools import LRUCache
from graphql import GraphQLSchema, OperationDefinitionNode

from execution.budget import (
    MAX_PLAN_NODES,
    MAX_PLAN_SECONDS,
    PLAN_CACHE_NODES,
    Budget,
    Unplannable,
)
from execution.documents import PreparedDocument
from execution.plan import Plan, Templates, plan

log = logging.getLogger("pinql.execution")

PlanKey = tuple[str, str | None]
"""(document SHA-256, operation name or None for a lone anonymous operation)."""


@dataclass(frozen=True, slots=True)
class Unplanned:
    """An operation the engine does not run, and why (a bounded label, and details)."""

    reason: str
    detail: str = ""

    @property
    def size(self) -> int:
        """What it weighs in the cache: one node."""
        return 1


class PlanCache:
    """The plans of a process (and what could not be planned), shared by every request.
    Create one in the app's lifespan."""

    def __init__(
        self,
        schema: GraphQLSchema,
        nodes: int = PLAN_CACHE_NODES,
        max_plan_nodes: int = MAX_PLAN_NODES,
        max_plan_seconds: float = MAX_PLAN_SECONDS,
    ) -> None:
        self.schema = schema
        self.templates = Templates(schema)
        self.max_plan_nodes = max_plan_nodes
        self.max_plan_seconds = max_plan_seconds
        self._plans: LRUCache[PlanKey, Plan | Unplanned] = LRUCache(
            nodes, getsizeof=lambda entry: max(entry.size, 1)
        )
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._plans)

    @property
    def nodes(self) -> int:
        """The plan nodes held."""
        return int(self._plans.currsize)

    def get(
        self, prepared: PreparedDocument, operation: OperationDefinitionNode
    ) -> Plan | Unplanned:
        """The plan of `operation` in the valid document `prepared`, planned on first use;
        Unplanned (logged once, when first found) when the engine does not run it."""
        assert prepared.valid and prepared.document is not None
        key = (prepared.sha256, operation.name.value if operation.name else None)
        plans = self._plans
        found = plans.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        found = self._plan(prepared, operation)
        if isinstance(found, Unplanned):
            log.info(
                "not planned (%s): document %s%s",
                found.reason,
                prepared.sha256,
                f": {found.detail}" if found.detail else "",
                extra={"document_hash": prepared.sha256, "reason": found.reason},
            )
        plans[key] = found
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

"""Plans kept per process: by document SHA-256 and operation name, least recently used out."""

from __future__ import annotations

from cachetools import LRUCache
from graphql import GraphQLSchema, OperationDefinitionNode

from schema.execution import PreparedDocument
from schema.fast.plan import Plan, plan

DEFAULT_SIZE = 1_000

PlanKey = tuple[str, str | None]
"""(document SHA-256, operation name or None for a lone anonymous operation)."""


class PlanCache:
    """An LRU of plans (and of operations that cannot be planned: None), shared by every
    request of a process. Create one in the app's lifespan."""

    def __init__(self, schema: GraphQLSchema, size: int = DEFAULT_SIZE) -> None:
        self.schema = schema
        self._plans: LRUCache[PlanKey, Plan | None] = LRUCache(size)
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._plans)

    def get(self, prepared: PreparedDocument, operation: OperationDefinitionNode) -> Plan | None:
        """The plan of `operation` in the valid document `prepared`, planned on first use;
        None when it cannot be planned (run it with schema.execution.run)."""
        assert prepared.valid and prepared.document is not None
        key = (prepared.sha256, operation.name.value if operation.name else None)
        plans = self._plans
        if key in plans:
            self.hits += 1
            return plans[key]  # (and the most recently used now)
        self.misses += 1
        planned = None if prepared.introspects else plan(self.schema, prepared.document, operation)
        plans[key] = planned
        return planned

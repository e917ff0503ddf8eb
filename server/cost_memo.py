"""Requested costs remembered per document, operation and the values of the variables its
costing reads (server/cost.py), so a persisted operation is costed once per distinct page
size, not once per request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cachetools import LRUCache
from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode

from server.cost import requested_cost_of
from server.offload import Offload


class RequestedCosts:
    """`requested_cost`, remembered per document, operation and the values of the variables
    its costing reads (`first`, `ids`, `@skip`/`@include` conditions), so a persisted
    operation is costed once per distinct page size, not once per request.

    A costing that agrees with an earlier one on every variable that one read takes the same
    path and reads the same variables, so it has the same result: entries are keyed by the
    values of every variable any costing of the operation has read so far (a superset).
    A costing runs off the event loop (server/offload.py): a large document's can take tens
    of milliseconds.
    """

    def __init__(self, schema: GraphQLSchema, offload: Offload, size: int = 4096) -> None:
        self.schema = schema
        self.offload = offload
        self._reads: LRUCache[tuple[str, str | None], tuple[str, ...]] = LRUCache(size)
        self._costs: LRUCache[tuple[Any, ...], int] = LRUCache(size)

    async def __call__(
        self,
        sha256: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> int:
        """The requested cost of `operation` of the document whose hash is `sha256`."""
        values = variables or {}
        name = operation.name.value if operation.name else None
        operation_key = (sha256, name)
        reads = self._reads.get(operation_key, ())
        key = (operation_key, *(_variable_key(values, n) for n in reads))
        cost = self._costs.get(key)
        if cost is not None:
            return cost
        recorded = _ReadVariables(values)
        cost = await self.offload.run(requested_cost_of, self.schema, document, operation, recorded)
        reads = self._reads.get(operation_key, ())  # (as they are now)
        reads = tuple(sorted(recorded.read.union(reads)))
        self._reads[operation_key] = reads  # (costs keyed by older reads are then never found)
        self._costs[(operation_key, *(_variable_key(values, n) for n in reads))] = cost
        return cost


def _variable_key(variables: Mapping[str, Any], name: str) -> tuple[bool, str]:
    """Whether a variable is given, and its value's repr (values come from JSON)."""
    return (True, repr(variables[name])) if name in variables else (False, "")


class _ReadVariables(Mapping[str, Any]):
    """A request's variables, noting the names read."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.given = values
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return self.given[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.read.add(name)
        return name in self.given

    def __iter__(self) -> Iterator[str]:
        return iter(self.given)

    def __len__(self) -> int:
        return len(self.given)

"""Running one operation of a prepared document for one request: on the engine when it is
planned (execution/engine.py), else on graphql-core's path (execution/reference.py), and how
it ran, for the metrics and logs.

`Outcome.execution` is `fast` (the engine answered), `graphql` (graphql-core's path by design:
the engine is switched off, or the operation is a mutation, a subscription or introspection)
or `fallback` (graphql-core's path for a query the engine could have run but did not), with
a bounded `reason`. Each fallback is logged once per document and reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from cachetools import LRUCache
from graphql import ExecutionResult, OperationDefinitionNode

from db.pool import Session
from db.write_keys import WriteKey
from execution.cache import PlanCache, Unplanned
from execution.documents import PreparedDocument
from execution.engine import NotRun, execute
from execution.reference import run
from loaders import Loaders
from loaders.search import DEFAULT_RANKING, Ranking
from resolvers.context import Context

log = logging.getLogger("pinql.execution")

FAST, GRAPHQL, FALLBACK = "fast", "graphql", "fallback"
EXECUTIONS = (FAST, GRAPHQL, FALLBACK)
BY_DESIGN = frozenset({"disabled", "mutation", "subscription", "introspection"})
"""Reasons an operation runs on graphql-core's path that are not fallbacks."""
REASONS = (
    "planned",
    *sorted(BY_DESIGN),
    *sorted(
        {"arguments", "condition", "depth", "directive", "field", "fragment_variables"}
        | {"size", "time", "type"}
    ),
)
"""Every `reason` label value."""
_LOGGED_FALLBACKS = 4_096


@dataclass(frozen=True, slots=True)
class Outcome:
    """A request's result and how it ran."""

    result: ExecutionResult
    execution: str
    """One of EXECUTIONS."""
    reason: str
    """One of REASONS."""
    objects: int | None = None
    """The objects `result.data` holds, when the engine counted them (else: walk it)."""


class Runs:
    """Where each operation runs, for one process: its plans (None: the engine is off)."""

    def __init__(self, plans: PlanCache | None, ranking: Ranking = DEFAULT_RANKING) -> None:
        self.plans = plans
        self.ranking = ranking
        """The search weights every request's loaders use."""
        self._logged: LRUCache[tuple[str, str], None] = LRUCache(_LOGGED_FALLBACKS)

    async def run(
        self,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
        session: Session,
        viewer_id: int | None,
        request_id: str | None = None,
        write_key: WriteKey | None = None,
    ) -> Outcome:
        """Runs one operation of a valid document for `viewer_id` on the request's session;
        a keyed mutation's writes are recorded under `write_key` (db/write_keys.py)."""
        graphql = partial(
            _on_graphql, prepared, operation, variables, session, viewer_id, self.ranking
        )
        planned = self.plans.get(prepared, operation) if self.plans is not None else None
        if planned is None:
            return await graphql(request_id, "disabled", write_key)
        if isinstance(planned, Unplanned):
            return await graphql(request_id, planned.reason, write_key)
        loaders = Loaders.build(session, viewer_id, planned=True, ranking=self.ranking)
        try:
            executed = await execute(planned, variables, loaders, request_id)
        except NotRun as not_run:
            self._log_once(prepared, not_run.reason)
            return await graphql(request_id, not_run.reason, write_key)
        return Outcome(executed.result, FAST, "planned", executed.objects)

    def _log_once(self, prepared: PreparedDocument, reason: str) -> None:
        key = (prepared.sha256, reason)
        if key not in self._logged:
            self._logged[key] = None
            log.info(
                "not run on the engine (%s): document %s",
                reason,
                prepared.sha256,
                extra={"document_hash": prepared.sha256, "reason": reason},
            )


async def _on_graphql(
    prepared: PreparedDocument,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    session: Session,
    viewer_id: int | None,
    ranking: Ranking,
    request_id: str | None,
    reason: str,
    write_key: WriteKey | None,
) -> Outcome:
    context = Context(Loaders.build(session, viewer_id, ranking=ranking), session, write_key)
    result = await run(prepared, operation, variables, context, request_id)
    return Outcome(result, GRAPHQL if reason in BY_DESIGN else FALLBACK, reason)

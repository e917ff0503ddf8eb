"""The fast path: a prepared query operation planned once, then run wave by wave through
the request's loaders, building the response directly (no graphql-core executor, no
Strawberry resolver wrappers, no task per list item), with the normal path's results.

`run_prepared` is what the HTTP edge calls: the plan from its `PlanCache` when there is one,
else `schema.execution.run`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from graphql import ExecutionResult, OperationDefinitionNode

from db.pool import Session
from loaders import Loaders
from resolvers.context import Context
from schema.execution import PreparedDocument, run
from schema.fast.cache import PlanCache
from schema.fast.execute import execute, execute_counted
from schema.fast.plan import Plan, plan

Route = Literal["compiled", "fast", "rerun", "fallback", "graphql"]
"""How a request ran: planned and answered by its compiled functions; planned and answered
by the fast path's executor; planned, but answered by the normal path (several field errors,
or something unexpected); not planned (the normal path); the fast path switched off (the
normal path)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A request's result and how it ran (for metrics)."""

    result: ExecutionResult
    route: Route
    objects: int | None = None
    """The objects `result.data` holds, when the fast path counted them (else: walk it)."""

    @property
    def execution(self) -> str:
        """The `execution` label of server/metrics.py: graphql, fast or fallback."""
        return _EXECUTIONS[self.route]


_EXECUTIONS = {
    "compiled": "fast",
    "fast": "fast",
    "rerun": "fallback",
    "fallback": "fallback",
    "graphql": "graphql",
}


async def run_prepared(
    plans: PlanCache | None,
    prepared: PreparedDocument,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    session: Session,
    viewer_id: int | None,
    request_id: str | None = None,
) -> Outcome:
    """Runs one operation of a valid document for `viewer_id` on the request's session: on
    the fast path, with planned loaders, when `plans` (None: the fast path is off) has a plan
    for it, else on the normal path."""
    planned = plans.get(prepared, operation) if plans is not None else None
    if planned is None:
        context = Context(loaders=Loaders.build(session, viewer_id), session=session)
        result = await run(prepared, operation, variables, context, request_id)
        return Outcome(result, "graphql" if plans is None else "fallback")
    loaders = Loaders.build(session, viewer_id, planned=True)
    result, ran, objects = await execute_counted(planned, variables, loaders, request_id)
    return Outcome(result, ran, objects)


__all__ = ["Outcome", "Plan", "PlanCache", "Route", "execute", "plan", "run_prepared"]

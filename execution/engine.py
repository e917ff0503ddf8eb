"""The engine: a planned query run for one request, wave by wave, through the request's
planned loaders, building the response directly (no graphql-core executor, no Strawberry
resolver, no task per item), with graphql-core's answer: data, errors and their codes.

It coerces the variables (as graphql-core does, errors and all), decides the plan's
`@include`/`@skip` conditions, builds the root object (execution/runner.py), then runs waves
while loads wait: each wave sends every batch its level asked for as one round trip
(loaders/waves.py) and completes what it brought, which asks for the next level's loads.
Field errors are settled at the end (execution/settle.py): nothing is answered twice. A
database fault stops the waves (the answer is a 503).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import ExecutionResult
from graphql.execution.values import get_variable_values

from execution.errors import coded
from execution.plan import Plan
from execution.runner import Runner
from execution.settle import settle
from loaders import Loaders

MAX_VARIABLE_ERRORS = 50  # graphql-core's default, as on its path


@dataclass(frozen=True, slots=True)
class Executed:
    """What the engine answered, and the objects its `data` holds when that is known without
    walking it (no errors: every object built is in the response)."""

    result: ExecutionResult
    objects: int | None


class NotRun(Exception):
    """The engine does not run this request (`reason`, a bounded label): graphql-core's path
    answers it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def execute(
    plan: Plan,
    variables: Mapping[str, Any] | None,
    loaders: Loaders,
    request_id: str | None = None,
) -> Executed:
    """Executes a planned query with this request's planned loaders. Raises NotRun when a
    condition variable is not a boolean (graphql-core reports that where it meets it)."""
    planned = loaders.planned
    if planned is None:
        raise ValueError("the engine loads through planned loaders: Loaders.build(planned=True)")
    raw = dict(variables) if variables is not None else {}
    quick = plan.variables.coerce(raw) if plan.variables is not None else None
    coerced = quick or get_variable_values(
        plan.schema, plan.operation.variable_definitions or (), raw, MAX_VARIABLE_ERRORS
    )
    if isinstance(coerced, list):  # as graphql-core answers, before executing anything
        return Executed(ExecutionResult(None, [coded(e, request_id) for e in coerced]), None)
    conditions: dict[str, bool] = {}
    for name in plan.conditions:
        value = coerced.coerced.get(name)
        if type(value) is not bool:
            raise NotRun("condition")
        conditions[name] = value
    runner = Runner(loaders, coerced, conditions)
    (data,) = runner.objects(plan.root, [None])
    while runner.waiting:
        waiting, runner.waiting = runner.waiting, []
        if runner.fault is not None:  # no wave after a fault: what waits fails with it
            for wait in waiting:
                wait.abandon(runner, runner.fault)
            break
        await planned.run_wave()
        for wait in waiting:
            wait.resume(runner)
    if not runner.errors:
        return Executed(ExecutionResult(data, None), runner.built - 1)
    settled, errors = settle(runner, plan.root, data)
    return Executed(ExecutionResult(settled, [coded(e, request_id) for e in errors]), None)

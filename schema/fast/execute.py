"""Running a plan: every field of a selection for all its parents at once, loads planned.

Each selection runs for all its parent objects together, field by field, so response keys
come in collection order. A field that loads asks its loader for every parent's key at once
when its plain function is just that (`resolvers/keyed.py`), else calls the function for
every parent, with the request's planned loaders (loaders/waves.py): a value already known
completes at once, the others wait for the next wave. A wave sends every batch its level
asked for as one round trip (`Loaders.run_wave`), then completes what it brought, which asks
for the next level's loads. No future, task or callback per item: plain functions written
as coroutines (`node`, `nodes`) are driven here, step by step, each step waiting for a wave.

A field tree the compiler handles runs its compiled functions instead (schema/fast/compiled.py,
`_Runner.run_compiled`), with the same waves; this executor answers what they refuse, from
the start, and completes the request after a wave failed under them.

Errors: variables are coerced by graphql-core (the same errors: schema/fast/values.py only
takes values that coerce to themselves); a field error is located,
nulls its nearest nullable position (schema/fast/errors.py) and is coded as on the normal
path (`schema.execution._coded`). When a request raises more than one field error, which of them
graphql-core reports, and in what order, depends on its task scheduling: such a request (and
anything unexpected, like a row of the wrong type) is run again on the normal path, with
fresh loaders, so its answer is the normal path's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from types import NoneType
from typing import Any, Literal

from graphql import ExecutionResult, GraphQLError, get_argument_values
from graphql.execution import Executor
from graphql.execution.values import VariableValues, get_variable_values

from loaders import Loaders
from loaders.base import SqlLoader
from loaders.waves import LOADED, WAITING, Pending, Planned, readiness_of
from resolvers.context import Context
from resolvers.keyed import ByKey
from schema.execution import PreparedDocument, _coded, run
from schema.fast.compiled import Compiled
from schema.fast.errors import ROOT, FieldError, Position, Slot, faults, nearest_nullable, settle
from schema.fast.fields import Kind
from schema.fast.fill import Filler
from schema.fast.plan import INT_MAX, INT_MIN, FieldPlan, LeafMode, Plan

MAX_VARIABLE_ERRORS = 50  # graphql-core's default, as on the normal path


class _Driven:
    """A plain function written as a coroutine, stepped by the fast path: each step runs it
    to its next wait for a planned load (a `Pending`); done when it returned or raised."""

    __slots__ = ("coroutine", "done", "error", "gave_up", "value", "waits_for")

    def __init__(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        self.coroutine = coroutine
        self.done = False
        self.value: Any = None
        self.error: Exception | None = None
        self.gave_up = False
        """It awaited something else than a planned load: the normal path must answer."""
        self.waits_for: Pending | None = None
        self.step()

    def step(self) -> None:
        """Runs it to its next wait, if what it waits for has come."""
        waits_for = self.waits_for
        if self.done or (waits_for is not None and not waits_for.done):
            return
        try:
            awaited = self.coroutine.send(None)
        except StopIteration as stop:
            self.value, self.done = stop.value, True
            return
        except Exception as error:
            self.error, self.done = error, True
            return
        if type(awaited) is not Pending:
            self.coroutine.close()
            self.gave_up = self.done = True
            self.error = RuntimeError(f"a plain function awaited {awaited!r}")
            return
        self.waits_for = awaited


Waited = Pending | _Driven
"""A value to come: done (`value` or `error`) after some wave."""


def _of_type(is_type_of: Callable[[Any, Any], bool], values: list[Any]) -> bool:
    """Whether every value is of the field's type. Strawberry's is_type_of checks the row's
    class: one value of each class will do."""
    if len(values) == 1:
        return bool(is_type_of(values[0], None))
    types = set(map(type, values))  # (in C: the loop over a page costs more than the check)
    if len(types) == 1:
        return bool(is_type_of(values[0], None))
    return all(is_type_of(next(v for v in values if type(v) is cls), None) for cls in types)


Positions = Sequence[Position | None]
"""Where each object of a batch is in the response (for errors): a list, or made when asked
for (`_Attached`, `_Listed`)."""


class _Attached(Sequence[Position | None]):
    """The positions of objects each written at `key` of one parent object (`outs[i]`, at
    `parents[i]`): made only when asked for, on an error's path."""

    __slots__ = ("field", "key", "outs", "parents")

    def __init__(
        self, parents: Positions, outs: list[dict[str, Any]], key: str, field: FieldPlan
    ) -> None:
        self.parents, self.outs, self.key, self.field = parents, outs, key, field

    def __len__(self) -> int:
        return len(self.outs)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        return (self.parents[index], self.outs[index], self.key, None, self.field)


class _Listed(Sequence[Position | None]):
    """The positions of a list's `length` items at `key` of one object (`out`, at
    `position`), made when asked for."""

    __slots__ = ("field", "key", "length", "out", "position")

    def __init__(
        self,
        position: Position | None,
        out: dict[str, Any],
        key: str,
        field: FieldPlan,
        length: int,
    ) -> None:
        self.position, self.out, self.key, self.field = position, out, key, field
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(self.length)[index]]
        index = range(self.length)[index]  # (negative indexes, IndexError past the end)
        return (self.position, self.out, self.key, index, self.field)


class _Waiting:
    """A field's values to come, for these objects."""

    __slots__ = ("field", "loader", "outs", "plain", "positions", "waited")

    def __init__(
        self,
        field: FieldPlan,
        waited: list[Any],
        outs: list[dict[str, Any]],
        positions: Positions,
        plain: bool = False,
        loader: SqlLoader[Any, Any] | None = None,
    ) -> None:
        self.field = field
        self.waited = waited
        """What each object waits for: a `Pending` or a `_Driven`; with `loader`, a key."""
        self.outs = outs
        self.positions = positions
        self.plain = plain
        """Only planned loads (`Pending`), none done when asked for: the next wave brings
        them all, values or errors."""
        self.loader = loader
        """The loader `waited` holds keys of (`SqlLoader.ask`): the next wave loads them."""


async def execute(
    plan: Plan,
    variables: Mapping[str, Any] | None,
    loaders: Loaders,
    request_id: str | None = None,
) -> ExecutionResult:
    """Executes a planned query with this request's loaders: the same result as
    `schema.execution.run` (data, errors, their codes and masking)."""
    result, _ran, _objects = await execute_counted(plan, variables, loaders, request_id)
    return result


Ran = Literal["compiled", "fast", "rerun"]
"""Who answered a planned request: its compiled functions (schema/fast/compiled.py), the
executor (this module), or the normal path (several errors, something unexpected)."""


async def execute_counted(
    plan: Plan,
    variables: Mapping[str, Any] | None,
    loaders: Loaders,
    request_id: str | None = None,
) -> tuple[ExecutionResult, Ran, int | None]:
    """`execute`, who answered, and the objects its `data` holds (`server.cost.actual_cost`)
    when that is known without walking it: a response without errors holds every object the
    fast path built."""
    if loaders.planned is None:
        raise ValueError("the fast path loads through planned loaders: Loaders.build(planned=True)")
    raw = dict(variables) if variables is not None else {}
    quick = plan.variables.coerce(raw) if plan.variables is not None else None
    coerced = quick or get_variable_values(
        plan.schema, plan.operation.variable_definitions or (), raw, MAX_VARIABLE_ERRORS
    )
    if isinstance(coerced, list):  # as graphql-core answers, before executing anything
        return ExecutionResult(None, [_coded(e, request_id) for e in coerced]), "fast", None
    root = plan.root(coerced.coerced)
    if root is None:
        return await _normal(plan, variables, loaders, request_id), "rerun", None
    ran: Ran = "fast"
    data: dict[str, Any] | None = None
    compiled = plan.compiled.get(id(root))
    if compiled is not None:
        runner = _Runner(loaders, coerced, plan.fillers)
        data = await runner.run_compiled(compiled, root)
        if data is not None and not runner.handed_over:
            ran = "compiled"
    if data is None:  # not compiled, or its functions refused something: the executor
        runner = _Runner(loaders, coerced, plan.fillers)
        data = {}
        runner.select(root, [None], [data], [None])
        await runner.drain()
    errors = runner.errors
    if runner.give_up:
        return await _normal(plan, variables, loaders, request_id), "rerun", None
    if not errors:
        return ExecutionResult(data, None), ran, runner.built
    settled, located = settle(data, errors)
    return ExecutionResult(settled, [_coded(e, request_id) for e in located]), ran, None


async def _normal(
    plan: Plan, variables: Mapping[str, Any] | None, loaders: Loaders, request_id: str | None
) -> ExecutionResult:
    """The request on the normal path, with fresh loaders on the same session."""
    session = loaders.session
    context = Context(loaders=Loaders.build(session, loaders.viewer_id), session=session)
    # `run` reads only the document of a prepared one (its text and hash name it in caches)
    prepared = PreparedDocument(text="", sha256="", document=plan.document, errors=())
    return await run(prepared, plan.operation, variables, context, request_id)


Queued = tuple[
    Callable[[Any, list[Any], list[dict[str, Any]]], None],
    FieldPlan,
    SqlLoader[Any, Any] | None,
    list[Any],
    list[dict[str, Any]],
]
"""A compiled field waiting for the next wave: (then, field, loader, waited, outs): `then`
completes it with the values of `waited`: keys of `loader`, or (no loader) `Pending`s."""


def _positions(tree: tuple[FieldPlan, ...], data: dict[str, Any]) -> dict[int, Position | None]:
    """The position of every object dict in `data`, by its id, as the executor makes them."""
    found: dict[int, Position | None] = {id(data): None}

    def walk(fields: tuple[FieldPlan, ...], out: dict[str, Any], at: Position | None) -> None:
        for field in fields:
            if field.selection is None:
                continue
            value = out.get(field.key)
            if type(value) is dict:
                position: Position = (at, out, field.key, None, field)
                found[id(value)] = position
                walk(field.selection, value, position)
            elif type(value) is list:
                for index, item in enumerate(value):
                    if type(item) is dict:
                        position = (at, out, field.key, index, field)
                        found[id(item)] = position
                        walk(field.selection, item, position)

    walk(tree, data, None)
    return found


class _Runner:
    """One request's execution of a plan."""

    __slots__ = (
        "arguments",
        "built",
        "errors",
        "fillers",
        "give_up",
        "handed_over",
        "loaders",
        "nulled",
        "planned",
        "queue",
        "variables",
        "waiting",
    )

    def __init__(
        self, loaders: Loaders, variables: VariableValues, fillers: Mapping[int, Filler]
    ) -> None:
        self.loaders = loaders
        assert loaders.planned is not None
        self.planned: Planned = loaders.planned
        self.fillers = fillers
        self.variables = variables
        self.arguments: dict[int, Mapping[str, Any]] = {}
        self.waiting: list[_Waiting] = []
        self.errors: list[FieldError] = []
        self.give_up = False
        """Set when the normal path must answer: stop starting work."""
        self.built = 0
        """Objects (dicts) built below `data` so far."""
        self.queue: list[Queued] = []
        """The loads compiled functions wait for, until the next wave."""
        self.handed_over = False
        """A wave failed under compiled functions: the executor completed the request."""
        self.nulled: set[Slot] = set()
        """Where errors nulled the response: what waits below is not completed (graphql-core
        cancels it)."""

    async def run_compiled(
        self, compiled: Compiled, tree: tuple[FieldPlan, ...]
    ) -> dict[str, Any] | None:
        """Runs a field tree's compiled functions: the data, filled; None when they refused
        something (nothing of what they did is kept but the loaders' values: the executor
        starts again, with a runner of its own). After a failed wave the executor takes over
        from the loads that wait (`hand_over`), and completes the request."""
        planned = self.planned
        try:
            data = compiled.root(self)
            queue = self.queue
            while queue:
                self.queue = []
                await planned.run_wave()
                if planned.failed:
                    break
                for then, _field, loader, waited, outs in queue:
                    if loader is not None:
                        known = loader.known
                        then(self, [known[key] for key in waited], outs)
                    else:
                        then(self, [pending.value for pending in waited], outs)
                queue = self.queue
            else:
                return data
        except Exception:  # Deopt, a refused leaf, an odd row: the executor says what
            return None
        self.hand_over(tree, data, queue)
        await self.drain()
        return data

    def hand_over(
        self, tree: tuple[FieldPlan, ...], data: dict[str, Any], queue: list[Queued]
    ) -> None:
        """Completes, as the executor does after a wave, the loads compiled functions waited
        for (some failed): each object's position is found in `data`."""
        self.handed_over = True
        positions = _positions(tree, data)
        for _then, field, loader, waited, outs in queue:
            self.resumed(
                _Waiting(
                    field,
                    waited,
                    outs,
                    [positions[id(out)] for out in outs],
                    plain=loader is None,
                    loader=loader,
                )
            )

    def fail(
        self,
        field: FieldPlan,
        out: dict[str, Any],
        position: Position | None,
        index: int | None,
        error: Exception,
    ) -> None:
        failed = FieldError(field, out, position, index, error)
        self.errors.append(failed)
        if len(self.errors) > 1 and not faults(self.errors):
            self.give_up = True
        self.nulled.add(nearest_nullable(failed))

    def under_nulled(self, position: Position | None) -> bool:
        """Whether the object at `position` is inside a nulled part of the response."""
        nulled = self.nulled
        if ROOT in nulled:
            return True
        while position is not None:
            parent, out, key, index, _field = position
            if (id(out), key, None) in nulled or (id(out), key, index) in nulled:
                return True
            position = parent
        return False

    def nulled_at(self, field: FieldPlan, out: dict[str, Any], position: Position | None) -> bool:
        """Whether `field`'s place in `out` (at `position`) was nulled by an error."""
        return self.under_nulled(position) or (id(out), field.key, None) in self.nulled

    async def drain(self) -> None:
        """Runs the waves of planned loads, completing what each brings."""
        while self.waiting and not self.give_up:
            waiting, self.waiting = self.waiting, []
            await self.loaders.run_wave()
            for w in waiting:
                self.resumed(w)

    def resumed(self, waiting: _Waiting) -> None:
        field = waiting.field
        if waiting.loader is not None:
            self.resumed_keys(waiting, waiting.loader)
            return
        if not self.nulled and waiting.plain and not self.planned.failed:
            # the usual case: only planned loads, and the wave that just ran loaded them all
            values = [w.value for w in waiting.waited]
            self.complete(field, values, waiting.outs, waiting.positions)
            return
        values = []
        outs: list[dict[str, Any]] = []
        positions: list[Position | None] = []
        later: list[Waited] = []
        later_outs: list[dict[str, Any]] = []
        later_positions: list[Position | None] = []
        nulled = bool(self.nulled)
        for waited, out, position in zip(
            waiting.waited, waiting.outs, waiting.positions, strict=True
        ):
            if type(waited) is _Driven and not waited.done:
                waited.step()
                if waited.gave_up:
                    self.give_up = True
                    return
                if not waited.done:
                    later.append(waited)
                    later_outs.append(out)
                    later_positions.append(position)
                    continue
            error = waited.error
            if error is not None:
                self.fail(field, out, position, None, error)  # counted, even where nulled
                continue
            if nulled and self.nulled_at(field, out, position):
                continue  # nulled by an error meanwhile: graphql-core cancels what lies below
            values.append(waited.value)
            outs.append(out)
            positions.append(position)
        if later:
            self.waiting.append(_Waiting(field, later, later_outs, later_positions))
        if values:
            self.complete(field, values, outs, positions)

    def resumed_keys(self, waiting: _Waiting, loader: SqlLoader[Any, Any]) -> None:
        """Completes a field whose objects asked for keys of `loader`, after its wave."""
        field = waiting.field
        known = loader.known
        if not self.nulled and not self.planned.failed:  # the usual case: all were loaded
            values = [known[key] for key in waiting.waited]
            self.complete(field, values, waiting.outs, waiting.positions)
            return
        failed = loader.failed
        values = []
        outs: list[dict[str, Any]] = []
        positions: list[Position | None] = []
        for key, out, position in zip(waiting.waited, waiting.outs, waiting.positions, strict=True):
            if key not in known:
                error = failed.get(key)
                if error is None:
                    self.give_up = True  # neither loaded nor failed: a bug, the normal path says
                    return
                self.fail(field, out, position, None, error)  # counted, even where nulled
                continue
            if self.nulled and self.nulled_at(field, out, position):
                continue  # nulled by an error meanwhile: graphql-core cancels what lies below
            values.append(known[key])
            outs.append(out)
            positions.append(position)
        if values:
            self.complete(field, values, outs, positions)

    def arguments_of(self, field: FieldPlan) -> Mapping[str, Any]:
        if field.arguments is not None:
            return field.arguments
        known = self.arguments.get(id(field))
        if known is None:
            quick = field.variable_arguments
            known = quick.values(self.variables.coerced) if quick is not None else None
            if known is None:  # graphql-core's, errors and all
                assert field.variable_field is not None
                known = get_argument_values(field.variable_field, field.nodes[0], self.variables)
            self.arguments[id(field)] = known
        return known

    def select(
        self,
        fields: tuple[FieldPlan, ...],
        parents: list[Any],
        outs: list[dict[str, Any]],
        positions: Positions,
    ) -> None:
        """Runs a selection for these parents, writing into their response objects."""
        if self.give_up:
            return
        filler = self.fillers.get(id(fields))
        if filler is not None and filler.fill(parents, outs):
            # the leaves are written, and the others' places kept
            self.fields(filler.rest, parents, outs, positions, placed=True)
        else:
            self.fields(fields, parents, outs, positions, placed=False)

    def fields(
        self,
        fields: tuple[FieldPlan, ...],
        parents: list[Any],
        outs: list[dict[str, Any]],
        positions: Positions,
        placed: bool,
    ) -> None:
        """Runs these fields of a selection for these parents, in order; `placed`: their
        places in the objects are kept already (by `Filler.build` or `fill`)."""
        for field in fields:
            kind = field.kind
            key = field.key
            if kind is Kind.LOAD:
                self.load(field, parents, outs, positions, placed)
            elif kind is Kind.TYPENAME:
                for out in outs:
                    out[key] = field.attribute
            else:
                try:
                    if kind is Kind.ATTRIBUTE:
                        name = field.attribute
                        values = [getattr(p, name) for p in parents]
                    else:
                        values = [field.fn(p) for p in parents]
                except Exception:
                    self.give_up = True  # a row without the column: a bug, the normal path says
                    return
                self.complete(field, values, outs, positions)

    def load(
        self,
        field: FieldPlan,
        parents: list[Any],
        outs: list[dict[str, Any]],
        positions: Positions,
        placed: bool = False,
    ) -> None:
        """Calls a field's plain function for every parent; completes the values at hand.
        A value to come keeps its place in the response with a null (unless `placed`)."""
        key = field.key
        try:
            arguments = self.arguments_of(field)
        except GraphQLError:
            self.give_up = True  # (after validation and coercion: never seen)
            return
        fn = field.fn
        loaders = self.loaders
        keywords = dict(arguments) if arguments else None  # most fields take none
        called: list[Any] = []
        loaded: list[Any] | None = called
        if field.by_key is not None and self.load_keys(
            field, field.by_key, parents, outs, positions, placed
        ):
            return
        try:
            for parent in parents:
                value = fn(loaders, parent, **keywords) if keywords else fn(loaders, parent)
                called.append(value)
            readiness = readiness_of(called)
        except Exception:
            for value in called:
                if asyncio.iscoroutine(value):
                    value.close()  # (node, nodes) called again below, and driven there
            loaded = None  # some parent's call raised: each is called again, below, alone
        if loaded is not None:
            if readiness == WAITING:  # the usual cases: all wait for the next wave...
                if not placed:
                    for out in outs:
                        out[key] = None  # its place in the response, filled when loaded
                self.waiting.append(_Waiting(field, loaded, outs, positions, plain=True))
                return
            if readiness == LOADED:  # ... or all are known
                self.complete(field, [value.value for value in loaded], outs, positions)
                return
        values: list[Any] = []
        ready_outs: list[dict[str, Any]] = []
        ready_positions: list[Position | None] = []
        waited: list[Waited] = []
        waiting_outs: list[dict[str, Any]] = []
        waiting_positions: list[Position | None] = []
        for index, (parent, out, position) in enumerate(zip(parents, outs, positions, strict=True)):
            if loaded is not None:
                value = loaded[index]
            else:
                try:
                    value = fn(loaders, parent, **keywords) if keywords else fn(loaders, parent)
                except Exception as error:
                    out[key] = None
                    self.fail(field, out, position, None, error)
                    continue
            if type(value) is not Pending and asyncio.iscoroutine(value):  # node, nodes
                value = _Driven(value)
                if value.gave_up:
                    self.give_up = True
                    return
            if type(value) is Pending or type(value) is _Driven:
                if not value.done:
                    out[key] = None  # its place in the response, filled when loaded
                    waited.append(value)
                    waiting_outs.append(out)
                    waiting_positions.append(position)
                    continue
                if value.error is not None:
                    out[key] = None
                    self.fail(field, out, position, None, value.error)
                    continue
                value = value.value
            values.append(value)
            ready_outs.append(out)
            ready_positions.append(position)
        if values:
            self.complete(field, values, ready_outs, ready_positions)
        if waited:
            self.waiting.append(_Waiting(field, waited, waiting_outs, waiting_positions))

    def load_keys(
        self,
        field: FieldPlan,
        by_key: ByKey,
        parents: list[Any],
        outs: list[dict[str, Any]],
        positions: Positions,
        placed: bool,
    ) -> bool:
        """A keyed field (its function is `by_key`'s load): asks its loader for every
        parent's key at once, and completes the field now if all are known, else after the
        next wave. False when the keys cannot be asked for (a row without the column, a key
        that cannot be one): the function, called for each parent, says what is wrong."""
        try:
            loader: SqlLoader[Any, Any] = getattr(self.loaders, by_key.loader)
            keys = list(map(by_key.key_of, parents))
            all_known = loader.ask(keys)
        except Exception:
            return False
        if all_known:
            known = loader.known
            self.complete(field, [known[k] for k in keys], outs, positions)
            return True
        if not placed:
            key = field.key
            for out in outs:
                out[key] = None  # its place in the response, filled when loaded
        self.waiting.append(_Waiting(field, keys, outs, positions, loader=loader))
        return True

    def complete(
        self,
        field: FieldPlan,
        values: list[Any],
        outs: list[dict[str, Any]],
        positions: Positions,
    ) -> None:
        """Writes the field's completed values into the objects (nested objects run their
        selection together)."""
        key = field.key
        if field.leaf is not None and not field.is_list:
            mode = field.leaf_mode
            # (one loop per mode: counts, ~60 a page, take the first without other tests)
            if mode == LeafMode.INT:
                for index, value in enumerate(values):
                    if type(value) is int and INT_MIN <= value <= INT_MAX:
                        outs[index][key] = value
                    else:
                        self.leaf_value(field, value, outs[index], positions[index])
            elif mode == LeafMode.AS_IS:
                as_is = field.leaf_type
                for index, value in enumerate(values):
                    if type(value) is as_is:
                        outs[index][key] = value
                    else:
                        self.leaf_value(field, value, outs[index], positions[index])
            else:
                for value, out, position in zip(values, outs, positions, strict=True):
                    self.leaf_value(field, value, out, position)
            return
        if field.selection is not None:
            filler = self.fillers.get(id(field.selection))
            if filler is not None and self.build(field, filler, values, outs, positions):
                return
        children: list[Any] = []
        child_outs: list[dict[str, Any]] = []
        child_positions: list[Position | None] = []
        # (the loops below run for every object of a page: appends bound once, no per-item
        # test of what the field is)
        add_child, add_out, add_position = (
            children.append,
            child_outs.append,
            child_positions.append,
        )
        if not field.is_list:
            for value, out, position in zip(values, outs, positions, strict=True):
                if value is None:
                    self.null(field, out, position)
                    continue
                child: dict[str, Any] = {}
                out[key] = child
                add_child(value)
                add_out(child)
                add_position((position, out, key, None, field))
        else:
            leaves = field.leaf is not None
            for value, out, position in zip(values, outs, positions, strict=True):
                if value is None:
                    self.null(field, out, position)
                    continue
                if not isinstance(value, list | tuple):
                    self.give_up = True  # graphql-core: "Expected Iterable" (never seen)
                    return
                items: list[Any] = []
                out[key] = items
                add_item = items.append
                for index, item in enumerate(value):
                    if item is None:
                        add_item(None)
                        if field.item_non_null:
                            self.fail(field, out, position, index, TypeError(field.null_message))
                    elif leaves:
                        try:
                            add_item(self.leaf(field, item))
                        except Exception as error:
                            add_item(None)
                            self.fail(field, out, position, index, error)
                    else:
                        child = {}
                        add_item(child)
                        add_child(item)
                        add_out(child)
                        add_position((position, out, key, index, field))
        if children:
            self.built += len(children)
            self.objects(field, children, child_outs, child_positions)

    def build(
        self,
        field: FieldPlan,
        filler: Filler,
        values: list[Any],
        outs: list[dict[str, Any]],
        positions: Positions,
    ) -> bool:
        """Completes an object field (of one object type) whose objects' leaves all pass
        `filler`'s checks: each object's dict is built whole (`Filler.build`), then its
        other fields run. False when some value is not such an object (a null, a list that
        is not one, a row of another type, a leaf to check field by field): nothing that
        counts was done, and `complete` goes field by field."""
        key = field.key
        single = not field.is_list
        if single:
            parents = values
        elif len(values) == 1:  # a page's edges or nodes: the usual list
            parents = values[0]
            if type(parents) is not list and type(parents) is not tuple:
                return False
        else:
            parents = []
            for value in values:
                if type(value) is not list and type(value) is not tuple:
                    return False
                parents.extend(value)
        types = set(map(type, parents))
        if len(types) != 1:  # a null (NoneType), rows of two types: left to `complete`
            if parents:
                return False
            for out in outs:  # lists, all empty
                out[key] = []
            return True
        (cls,) = types
        if cls is NoneType:  # all null: `complete` writes them, and their errors
            return False
        is_type_of = field.is_type_of
        if is_type_of is not None and not is_type_of(parents[0], None):
            return False
        children = filler.build(parents, cls)
        if children is None:
            return False
        self.built += len(children) * filler.objects_each
        rest = filler.build_rest
        child_positions: Positions
        if single:
            for out, child in zip(outs, children, strict=True):
                out[key] = child
            child_positions = _Attached(positions, outs, key, field)
        elif len(values) == 1:
            out = outs[0]
            out[key] = children
            child_positions = _Listed(positions[0], out, key, field, len(children))
        else:
            start = 0
            listed: list[Position | None] = []
            child_positions = listed
            for value, out, position in zip(values, outs, positions, strict=True):
                end = start + len(value)
                out[key] = children[start:end]
                if rest:
                    listed.extend(_Listed(position, out, key, field, end - start))
                start = end
        if rest:
            self.fields(rest, parents, children, child_positions, placed=True)
        return True

    def leaf_value(
        self, field: FieldPlan, value: Any, out: dict[str, Any], position: Position | None
    ) -> None:
        """Writes a leaf's value as graphql-core completes it: null, serialized, or an error."""
        if value is None:
            self.null(field, out, position)
            return
        try:
            out[field.key] = self.leaf(field, value)
        except Exception as error:
            out[field.key] = None
            self.fail(field, out, position, None, error)

    def null(self, field: FieldPlan, out: dict[str, Any], position: Position | None) -> None:
        """Writes a null value of `field`: an error where the field is non-null."""
        out[field.key] = None
        if field.non_null:
            self.fail(field, out, position, None, TypeError(field.null_message))

    @staticmethod
    def leaf(field: FieldPlan, value: Any) -> Any:
        mode = field.leaf_mode
        if mode == LeafMode.AS_IS and type(value) is field.leaf_type:
            return value
        if mode == LeafMode.INT and type(value) is int and INT_MIN <= value <= INT_MAX:
            return value
        assert field.leaf is not None
        return Executor.complete_leaf_value(field.leaf, value)

    def objects(
        self,
        field: FieldPlan,
        values: list[Any],
        outs: list[dict[str, Any]],
        positions: Positions,
    ) -> None:
        """Runs the field's sub-selection on its object values (by runtime type)."""
        if field.selection is not None:
            is_type_of = field.is_type_of
            # Strawberry's is_type_of checks the row's class: one value of each class will do
            if is_type_of is not None and not _of_type(is_type_of, values):
                self.give_up = True  # graphql-core: "Expected value of type..." (a bug)
                return
            self.select(field.selection, values, outs, positions)
            return
        assert field.selections is not None
        groups: dict[str, tuple[list[Any], list[dict[str, Any]], list[Position | None]]] = {}
        for value, out, position in zip(values, outs, positions, strict=True):
            name = next((n for n, is_type_of in field.runtime_types if is_type_of(value, None)), "")
            if not name:
                self.give_up = True  # graphql-core: "must resolve to an Object type" (a bug)
                return
            group = groups.setdefault(name, ([], [], []))
            group[0].append(value)
            group[1].append(out)
            group[2].append(position)
        for name, (group_values, group_outs, group_positions) in groups.items():
            self.select(field.selections[name], group_values, group_outs, group_positions)

"""Running a plan for one request: each selection runs for a whole batch of parent objects
at once, a column (one field for every parent) at a time, and builds the batch's response
objects in one pass.

A field's column is read from the parents (attributes, computed fields), taken from what a
loader already knows, or left for the next wave (execution/waits.py): those keep their place
in each object with a null, and are written when their wave brings them. Values complete as
graphql-core completes them (execution/completion.py); a field error is recorded where it
happened and settled once the request is done (execution/settle.py), so no field is skipped
because another failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import repeat
from types import CoroutineType
from typing import Any

from graphql import GraphQLError, get_argument_values
from graphql.execution.values import VariableValues

from execution.builders import Builder, builder
from execution.completion import Completion, placed
from execution.plan import Field, Selection
from execution.sources import Kind
from execution.waits import Driven, KeyedWait, LoadWait, Waiting
from loaders import Loaders
from loaders.waves import Pending

KEYED, LOADED = Kind.KEYED, Kind.LOADED
_new = tuple.__new__
COMPILE_AFTER = 2
"""Uses of a selection before its builder is compiled."""
COMPILES_PER_REQUEST = 16
"""Builders one request may compile (the others wait for later requests)."""


class Runner(Completion):
    """One request's completion of a plan."""

    def __init__(
        self, loaders: Loaders, variables: VariableValues, conditions: Mapping[str, bool]
    ) -> None:
        super().__init__()
        self.loaders = loaders
        self.variables = variables
        self.conditions = conditions
        self.waiting: list[Waiting] = []
        """The loads to complete after the next wave."""
        self.built = 0
        """Response objects built so far (the root's included)."""
        self.compiles = 0
        """Builders this request compiled."""
        self._chosen: dict[int, tuple[tuple[Field, ...], tuple[str, ...]]] = {}
        self._arguments: dict[int, Mapping[str, Any]] = {}

    def chosen(self, selection: Selection) -> tuple[tuple[Field, ...], tuple[str, ...]]:
        """The selection's fields and their keys under the request's conditions."""
        if not selection.order:
            return selection.fields, selection.keys
        found = self._chosen.get(id(selection))
        if found is None:
            found = self._chosen[id(selection)] = selection.chosen(self.conditions)
        return found

    def objects(self, selection: Selection, parents: list[Any]) -> list[dict[str, Any]]:
        """The response objects of a batch of parents of the selection's type: built whole
        by the selection's builder (execution/builders.py) when every plain leaf is as
        graphql-core keeps it (the usual), else from its columns completed value by value."""
        if selection.order:  # (fields under conditions)
            fields, keys = self.chosen(selection)
        else:
            fields, keys = selection.fields, selection.keys
        outs: list[dict[str, Any]] = []  # filled below; errors recorded meanwhile refer to it
        builder = selection.compiled.builder or self.compiling(selection)
        if builder is not None:
            others = []
            for field in builder.others:  # (keyed and loaded fields, dispatched here)
                kind = field.kind
                if kind is KEYED:
                    others.append(self.keyed(field, parents, outs))
                elif kind is LOADED:
                    others.append(self.loaded(field, parents, outs))
                else:
                    others.append(self.column(field, parents, outs))
            try:
                if len(parents) == 1:
                    outs.append(builder.single(parents[0], others))
                else:
                    outs.extend(builder.objects(parents, *others))
                self.built += len(parents) * builder.each  # (with the objects inlined)
                return outs
            except Exception:  # noqa: S110 (a plain leaf to complete value by value: below)
                pass
            given = iter(others)
            columns = [
                self.column(field, parents, outs) if read else next(given)
                for field, read in zip(fields, builder.inline, strict=True)
            ]
        elif not fields:
            self.built += len(parents)
            return [{} for _ in parents]
        else:  # not compiled (yet), or its fields depend on the conditions
            columns = [self.column(field, parents, outs) for field in fields]
        self.built += len(parents)
        outs.extend(map(dict, map(zip, repeat(keys), zip(*columns, strict=True))))
        return outs

    def compiling(self, selection: Selection) -> Builder | None:
        """The selection's builder if it is now to be compiled: on its COMPILE_AFTER-th use,
        at most COMPILES_PER_REQUEST in one request (each costs about 0.1 ms of CPU), and
        only for a selection every request selects all of (no conditions)."""
        compiled = selection.compiled
        compiled.uses += 1
        if compiled.uses < COMPILE_AFTER or self.compiles >= COMPILES_PER_REQUEST:
            return None
        if selection.order or not selection.fields:
            return None
        self.compiles += 1
        compiled.builder = builder(selection.fields, selection.type_name)
        return compiled.builder

    def column(self, field: Field, parents: list[Any], outs: list[dict[str, Any]]) -> list[Any]:
        """The field's completed value for each parent, or null where it comes later."""
        kind = field.kind
        if kind is Kind.ATTRIBUTE or kind is Kind.COMPUTED:
            read = field.read
            assert read is not None
            try:
                values = list(map(read, parents))
            except Exception:  # some parent's read fails: its field error, the others go on
                values, at = self.each(field, parents, outs, read)
                return placed(len(parents), at, self.complete(field, values, outs, at))
            return self.complete(field, values, outs, None)
        if kind is KEYED:
            return self.keyed(field, parents, outs)
        if kind is LOADED:
            return self.loaded(field, parents, outs)
        return [field.type_name] * len(parents)

    def each(
        self,
        field: Field,
        parents: list[Any],
        outs: list[dict[str, Any]],
        read: Callable[[Any], Any],
    ) -> tuple[list[Any], list[int]]:
        """`read` of each parent it does not fail on, and their indexes; a failure is that
        parent's field error."""
        values: list[Any] = []
        at: list[int] = []
        for index, parent in enumerate(parents):
            try:
                values.append(read(parent))
            except Exception as error:
                self.fail(field, outs, index, None, error)
                continue
            at.append(index)
        return values, at

    def keyed(self, field: Field, parents: list[Any], outs: list[dict[str, Any]]) -> list[Any]:
        """A keyed field: its loader asked for every parent's key at once."""
        declaration = field.source.keyed
        assert declaration is not None
        loader = declaration.loader_of(self.loaders)
        at: list[int] | None = None
        try:
            keys = list(map(declaration.key_of, parents))
        except Exception:  # some parent lacks the key: its field error, the others go on
            keys, at = self.each(field, parents, outs, declaration.key_of)
        if not loader.ask(keys):  # (the key None is known to every loader: as None)
            self.waiting.append(_new(KeyedWait, (field, loader, keys, outs, at)))
            return [None] * len(parents)
        values = list(map(loader.known.__getitem__, keys))
        return placed(len(parents), at, self.complete(field, values, outs, at))

    def loaded(self, field: Field, parents: list[Any], outs: list[dict[str, Any]]) -> list[Any]:
        """A loaded field: its plain function called for every parent; the values at hand
        completed now, the others when their wave ran."""
        try:
            arguments = self.arguments_of(field)
        except GraphQLError as error:  # graphql-core reports it for each parent
            for index in range(len(parents)):
                self.fail(field, outs, index, None, error)
            return [None] * len(parents)
        load = field.source.load
        assert load is not None
        loaders = self.loaders
        waiting: list[int] = []
        waited: list[Pending | Driven] = []
        values, at = [], []
        for index, parent in enumerate(parents):
            try:
                value = load(loaders, parent, **arguments) if arguments else load(loaders, parent)
            except Exception as error:
                self.fail(field, outs, index, None, error)
                continue
            if type(value) is Pending or type(value) is CoroutineType:
                pending: Pending | Driven = Driven(value) if type(value) is CoroutineType else value
                if not pending.done:
                    waiting.append(index)
                    waited.append(pending)
                    continue
                if pending.error is not None:
                    self.fail(field, outs, index, None, pending.error)
                    continue
                value = pending.value
            values.append(value)
            at.append(index)
        if waiting:
            self.waiting.append(LoadWait(field, outs, waiting, waited))
        if len(at) == len(parents):  # (every parent's value is at hand)
            return self.complete(field, values, outs, None)
        return placed(len(parents), at, self.complete(field, values, outs, at) if values else [])

    def arguments_of(self, field: Field) -> Mapping[str, Any]:
        """The field's arguments for this request (raises graphql-core's GraphQLError)."""
        if field.arguments is not None:
            return field.arguments
        found = self._arguments.get(id(field))
        if found is None:
            quick = field.quick
            found = quick.values(self.variables.coerced) if quick is not None else None
            if found is None:
                assert field.definition is not None
                node = field.occurrences[0].node
                found = get_argument_values(field.definition, node, self.variables)
            self._arguments[id(field)] = found
        return found

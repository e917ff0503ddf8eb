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
from typing import Any

from graphql import GraphQLError, get_argument_values
from graphql.execution.values import VariableValues

from execution.completion import Completion
from execution.leaves import INT_MAX, INT_MIN, LeafMode, in_range
from execution.plan import Field, Selection
from execution.sources import Kind
from execution.waits import KeyedWait, LoadWait, Waiting, called
from loaders import Loaders

INT = LeafMode.INT


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
        """The response objects of a batch of parents of the selection's type."""
        if len(parents) == 1:
            return [self.object(selection, parents[0])]
        self.built += len(parents)
        fields, keys = self.chosen(selection)
        if not fields:
            return [{} for _ in parents]
        outs: list[dict[str, Any]] = []  # filled below; errors recorded meanwhile refer to it
        columns: list[list[Any]] = []
        add = columns.append
        for field in fields:
            kept = field.as_is
            if kept is not None and field.read is not None:  # a leaf read from the parent:
                try:  # kept as it is when every value is what it serializes to (the usual)
                    values = list(map(field.read, parents))
                except Exception:  # noqa: S110 (`column` reads it again and reports it)
                    pass
                else:
                    if set(map(type, values)) <= kept and (
                        field.leaf_mode != INT or in_range(values)
                    ):
                        add(values)
                        continue
            add(self.column(field, parents, outs))
        outs.extend(map(dict, map(zip, repeat(keys), zip(*columns, strict=True))))
        return outs

    def object(self, selection: Selection, parent: Any) -> dict[str, Any]:
        """`objects` for a batch of one (a root field's object, a page's pageInfo...), with
        what a batch of one does not need (the column calls) left out."""
        self.built += 1
        fields, keys = self.chosen(selection)
        outs: list[dict[str, Any]] = []  # (holds the object once built: see `objects`)
        values: list[Any] = []
        add = values.append
        parents = [parent]
        for field in fields:
            kept = field.as_is
            if kept is not None and field.read is not None:
                try:
                    value = field.read(parent)
                except Exception:  # noqa: S110 (`column` reads it again and reports it)
                    pass
                else:
                    if type(value) in kept and (
                        field.leaf_mode != INT or value is None or INT_MIN <= value <= INT_MAX
                    ):
                        add(value)
                        continue
            add(self.column(field, parents, outs)[0])
        out = dict(zip(keys, values, strict=True))
        outs.append(out)
        return out

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
                return _placed(len(parents), at, self.complete(field, values, outs, at))
            return self.complete(field, values, outs, None)
        if kind is Kind.KEYED:
            return self.keyed(field, parents, outs)
        if kind is Kind.LOADED:
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
        loader = declaration.loader(self.loaders)
        at: list[int] | None = None
        try:
            keys = list(map(declaration.key_of, parents))
        except Exception:  # some parent lacks the key: its field error, the others go on
            keys, at = self.each(field, parents, outs, declaration.key_of)
        asked = keys if None not in keys else [key for key in keys if key is not None]
        if not loader.ask(asked):
            self.waiting.append(KeyedWait(field, loader, keys, outs, at))
            return [None] * len(parents)
        known = loader.known
        if asked is keys:
            values = list(map(known.__getitem__, keys))
        else:
            values = [None if key is None else known[key] for key in keys]
        return _placed(len(parents), at, self.complete(field, values, outs, at))

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
        wait = LoadWait(field, outs)
        values, at = [], []
        for index, parent in enumerate(parents):
            outcome = called(load, self.loaders, parent, arguments)
            if outcome.waits:
                wait.add(index, outcome)
            elif outcome.error is not None:
                self.fail(field, outs, index, None, outcome.error)
            else:
                values.append(outcome.value)
                at.append(index)
        if wait.at:
            self.waiting.append(wait)
        return _placed(len(parents), at, self.complete(field, values, outs, at) if values else [])

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


def _placed(length: int, at: list[int] | None, values: list[Any]) -> list[Any]:
    """A column of `length` nulls with `values[j]` at `at[j]` (`at` None: the values are
    the column)."""
    if at is None:
        return values
    column: list[Any] = [None] * length
    for index, value in zip(at, values, strict=True):
        column[index] = value
    return column
